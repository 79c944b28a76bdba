"""Payload schemas at the edge: every JSON body and query string is a pydantic model, validated before a
service sees it. A payload of any shape that does not fit (wrong type, unknown field, a number out of range,
an integer beyond any column, nesting deeper than a report can have) is a :class:`~elearn.errors.ServiceError`
(400) naming the first bad field, never a 500."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import request
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, ValidationError

from elearn.errors import ServiceError
from elearn.extensions import ID_MAX

M = TypeVar("M", bound=BaseModel)

# Bodies larger than this are refused before parsing (heartbeats and form calls are a few hundred bytes).
MAX_JSON_BYTES = 256 * 1024


class Payload(BaseModel):
    """Base of request payloads: unknown fields refused, NaN and infinities refused, values not coerced
    from other types (``"1"`` is not a number, ``1`` is not true)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class QueryArgs(BaseModel):
    """Base of query strings: text values converted to the declared types, unknown keys ignored (links carry
    tracking and cache-busting parameters)."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, frozen=True)


def describe(exc: ValidationError) -> str:
    """One line for people: the first bad field and what is wrong with it."""
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    if not where:
        if first.get("type") in ("model_type", "dict_type", "model_attributes_type"):
            return _("请求体须为 JSON 对象。")
        if first.get("type") == "json_invalid":
            return _("请求体不是有效的 JSON：%(reason)s", reason=first.get("msg", ""))
        return _("请求体无效：%(reason)s", reason=first.get("msg", ""))
    return _("字段 %(field)s 无效：%(reason)s", field=where, reason=first.get("msg", ""))


def _parsed(parse: Callable[[], M], code: str) -> M:
    try:
        return parse()
    except ValidationError as exc:
        raise ServiceError(describe(exc), code) from None
    except RecursionError:
        raise ServiceError(_("请求体嵌套过深。"), code) from None


def validate(model: type[M], data: Any, code: str = "invalid_payload") -> M:
    """``data`` (already decoded) as ``model``; a 400 ServiceError with ``code`` when it does not fit."""
    return _parsed(lambda: model.model_validate(data), code)


def json_body(model: type[M], code: str = "invalid_payload") -> M:
    """The request's JSON body as ``model``. Decoded by pydantic's own parser, which refuses deep nesting
    and huge numbers with a validation error instead of recursing or overflowing."""
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise ServiceError(_("请求体过大。"), code)
    raw = request.get_data(cache=True)
    if not raw or not (request.mimetype == "application/json" or request.mimetype.endswith("+json")):
        raise ServiceError(_("请求体须为 JSON（Content-Type: application/json）。"), code)
    return _parsed(lambda: model.model_validate_json(raw), code)


def query_args(model: type[M], code: str = "bad_query") -> M:
    """The query string as ``model`` (the last value of a repeated key)."""
    return validate(model, request.args.to_dict(), code)


def int_arg(values: Mapping[str, str], name: str, default: int | None = None, *, lo: int = 1,
            hi: int = ID_MAX, code: str = "bad_query") -> int | None:
    """An integer from a query string or form (``request.args``, ``request.form``): ``default`` when absent
    or empty; a 400 ServiceError naming ``name`` when it is not a plain decimal integer in ``lo``..``hi`` (an id
    or page beyond any column would fail in the database driver)."""
    raw = values.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 12 or not lo <= int(text) <= hi:
        raise ServiceError(_("参数 %(name)s 无效。", name=name), code)
    return int(text)
