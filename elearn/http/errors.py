"""Errors as HTTP: the status of each domain error, JSON ``{"error": {"code", "message"}}`` for the API and
script calls, a readable page for people. Services raise :mod:`elearn.errors`; only this module knows codes."""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from elearn.errors import (
    Busy,
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
    OutOfSpace,
    ServiceError,
    TooLarge,
    TooManyAttempts,
)
from elearn.extensions import db
from elearn.http.inputs import BadText

STATUS: dict[type[ServiceError], int] = {
    NotFound: 404,
    Forbidden: 403,
    NotAuthenticated: 401,
    Conflict: 409,
    TooLarge: 413,
    TooManyAttempts: 429,
    OutOfSpace: 507,
    Busy: 503,
    ServiceError: 400,
}


def status_for(exc: ServiceError) -> int:
    """The HTTP status of a domain error (the nearest class in its MRO that has one)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def wants_json() -> bool:
    """JSON for the API and for script calls that ask for it (the studio's upload endpoints)."""
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def json_error(status: int, code: str, message: str, **extra: Any) -> Response:
    """``{"error": {"code", "message"}}`` (and ``extra`` keys beside it) with ``status``."""
    response = jsonify({"error": {"code": code, "message": message}, **extra})
    response.status_code = status
    return response


def error_response(exc: ServiceError) -> Response:
    """A domain error as JSON: its status, code and message."""
    return json_error(status_for(exc), exc.code, exc.message)


def _page(status: int, message: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, message=message), status


MESSAGES = {
    400: lambda: _("请求无效。"),
    403: lambda: _("您无权访问此页面。"),
    404: lambda: _("页面不存在。"),
    405: lambda: _("不支持该请求方法。"),
    413: lambda: _("上传的内容过大。"),
    429: lambda: _("请求过于频繁，请稍后再试。"),
    500: lambda: _("服务器出错了，我们已记录此问题。"),
}


def register_error_handlers(app: Flask) -> None:
    """Every error a request can end in, as JSON or as a page; never a traceback."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        if isinstance(exc, BadText):
            message, code = exc.description or MESSAGES[400](), "bad_text"
        else:
            message = MESSAGES[status]() if status in MESSAGES else (exc.description or "")
        if wants_json():
            return json_error(status, code, message)
        return _page(status, message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        message = _("表单已过期或来源无效，请刷新页面后重试。")
        if wants_json():
            return json_error(400, "csrf", message)
        return _page(400, message)

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError) -> Any:
        db.session.rollback()
        if wants_json():
            return error_response(exc)
        return _page(status_for(exc), exc.message)

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError) -> Any:
        # Locked (SQLite past its busy timeout) or unreachable (PostgreSQL restarting): the transaction was
        # rolled back, nothing half-written; the client may simply retry.
        db.session.rollback()
        current_app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
        message = _("系统繁忙，请稍后重试。")
        response = json_error(503, "busy", message) if wants_json() else app.make_response(_page(503, message))
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        db.session.rollback()
        current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, "internal_error", MESSAGES[500]())
        return _page(500, MESSAGES[500]())
