"""Web pages: one blueprint per module, templates under ``templates/<blueprint>/``."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from elearn.extensions import db
from elearn.services import ServiceError


def wants_json() -> bool:
    """JSON for the API and for script calls that ask for it (the studio's upload endpoints)."""
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def local_time(dt, seconds: bool = False) -> str:
    """A stored (naive UTC) time in the site's time zone, for pages and exports; "" for none."""
    from flask_babel import format_datetime

    if dt is None:
        return ""
    return format_datetime(dt, "yyyy-MM-dd HH:mm:ss" if seconds else "yyyy-MM-dd HH:mm")


def json_error(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def register_web(app: Flask) -> None:
    from flask_login import current_user

    from elearn.web import (admin, analytics, auth, credits, learn, main, orgtools, publish, quiz, readings,
                            roster, search, studio, training)

    modules = (auth, main, credits, learn, quiz, search, readings, studio, publish, training, orgtools, analytics,
               roster, admin)
    for module in modules:
        app.register_blueprint(module.bp)
    app.jinja_env.filters["localtime"] = local_time

    @app.context_processor
    def navigation():
        from flask import url_for
        items = []
        if current_user.is_authenticated:
            for module in modules:
                for endpoint, label, roles in getattr(module, "NAV", ()):
                    if roles is None or current_user.role in roles:
                        items.append({"url": url_for(endpoint), "label": label, "endpoint": endpoint})
        return {"nav_items": items}

    messages = {
        400: lambda: _("请求无效。"),
        403: lambda: _("您无权访问此页面。"),
        404: lambda: _("页面不存在。"),
        405: lambda: _("不支持该请求方法。"),
        413: lambda: _("上传的内容过大。"),
        429: lambda: _("请求过于频繁，请稍后再试。"),
        500: lambda: _("服务器出错了，我们已记录此问题。"),
    }

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        message = messages.get(status, lambda: exc.description)()
        code = exc.name.lower().replace(" ", "_")
        if wants_json():
            return json_error(status, code, exc.description if status not in messages else message)
        return render_template("errors/error.html", status=status, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = _("表单已过期或来源无效，请刷新页面后重试。")
        if wants_json():
            return json_error(400, "csrf", message)
        return render_template("errors/error.html", status=400, message=message), 400

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        db.session.rollback()
        if wants_json():
            return json_error(exc.status, exc.code, exc.message)
        return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError):
        # Locked (SQLite past its busy timeout) or unreachable (PostgreSQL restarting): the transaction was
        # rolled back, nothing half-written; the client may simply retry.
        db.session.rollback()
        app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
        message = _("系统繁忙，请稍后重试。")
        if wants_json():
            response = json_error(503, "busy", message)
        else:
            response = app.make_response((render_template("errors/error.html", status=503, message=message), 503))
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, "internal_error", messages[500]())
        return render_template("errors/error.html", status=500, message=messages[500]()), 500
