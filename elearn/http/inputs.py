"""Text at the edge: no request reaches a view with a NUL or another control character in its path, query,
form or JSON strings, nor with a single text value longer than any field we store.

PostgreSQL refuses NUL in text outright (a 500 deep in a query, where SQLite stored it quietly); other C0
control characters are never typed by a person and only serve to forge log lines, spreadsheet cells and
headers. Refusing them here, once, gives every page and API the same clear 400 and changes nothing."""
from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.exceptions import BadRequest

from elearn import policy
from elearn.http.schemas import MAX_JSON_BYTES

# C0 controls except tab, line feed and carriage return (which a textarea sends), plus DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadText(BadRequest):
    """A value holding a control character or beyond the longest text we keep."""


# Where a value came from, translated only when a message is shown: the checks run on every string of every
# request, and a translation lookup per string cost more than the checks themselves.
_URL, _QUERY, _FORM, _FILENAME, _DATA = (lazy_gettext("网址"), lazy_gettext("网址参数"), lazy_gettext("表单内容"),
                                         lazy_gettext("文件名"), lazy_gettext("提交的数据"))


def _check(value: str, where: Any) -> None:
    if _CONTROL.search(value):
        raise BadText(_("%(where)s含有无法接受的控制字符。", where=where))
    if len(value) > policy.TEXT_VALUE_MAX_CHARS:
        raise BadText(_("%(where)s过长（最多 %(n)d 个字符）。", where=where, n=policy.TEXT_VALUE_MAX_CHARS))


def _walk(value: Any, depth: int = 0) -> None:
    if isinstance(value, str):
        _check(value, _DATA)
    elif depth > 32:
        raise BadText(_("提交的数据嵌套过深。"))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(str(key), _DATA)
            _walk(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk(item, depth + 1)


def check_request_text() -> None:
    """Refuse (400) a request whose path, query, form fields, upload names or JSON strings carry control
    characters or an oversized value. File contents are not text and are left to their own checks."""
    _check(request.path, _URL)
    for key, value in request.args.items(multi=True):
        _check(key, _QUERY)
        _check(value, _QUERY)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        # A multipart part without a name comes through with the name None (werkzeug): nothing to check in it.
        for key, value in request.form.items(multi=True):
            _check(key or "", _FORM)
            _check(value or "", _FORM)
        for key, upload in request.files.items(multi=True):
            _check(key or "", _FORM)
            _check(upload.filename or "", _FILENAME)
    elif request.is_json:
        # Only bodies the JSON views would read at all (they refuse larger ones themselves): parsing and
        # walking a large body here, before sign-in or rate limits, would be work for anyone to order.
        if request.content_length is None or request.content_length > MAX_JSON_BYTES:
            return
        try:
            body = json.loads(request.get_data(cache=True) or b"null")
        except (ValueError, RecursionError):
            return  # not JSON: the view's own parser gives the precise message
        _walk(body)


def register_input_guard(app: Flask) -> None:
    app.before_request(check_request_text)
