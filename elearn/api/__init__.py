"""JSON API under ``/api/v1``: session cookie or ``Authorization: Bearer <token>``.

Browser calls that rely on the session cookie must send the ``X-CSRFToken`` header on writes; token calls
need no CSRF token because a cross-site page cannot attach a bearer header.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError

from elearn.services import tokens, users

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _error(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


@bp.before_request
def authenticate():
    g.api_token_auth = False
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return _error(401, "unauthorized", _("Authorization 头格式应为 Bearer <令牌>。"))
        user = tokens.user_for(value.strip())
        if user is None:
            return _error(401, "unauthorized", _("令牌无效或已吊销。"))
        # Set the request's user without touching the session: a token call mints no cookie.
        g._login_user = user
        g.api_token_auth = True
        return None
    if request.method not in ("GET", "HEAD", "OPTIONS") and current_user.is_authenticated:
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except (ValidationError, CSRFError):
            return _error(400, "csrf", _("缺少或无效的 CSRF 令牌（X-CSRFToken 头）。"))
    return None


@bp.after_request
def no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def api_login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return _error(401, "unauthorized", _("需要登录或 API 令牌。"))
        return view(*args, **kwargs)
    return wrapped


@bp.get("/me")
@api_login_required
def me():
    """The current user's profile."""
    u = current_user
    return jsonify({
        "id": u.id, "username": u.username, "name": u.name, "role": u.role, "category": u.category,
        "exempt": u.exempt, "organisation": {"id": u.organisation.id, "name": u.organisation.name,
                                             "sector": u.organisation.sector},
        "responsible_organisation_id": users.responsible_org(u).id,
    })


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    from elearn.api.openapi import build_spec
    return jsonify(build_spec())


# Endpoint modules attach their routes to ``bp`` when imported.
from elearn.api import catalog, progress, search  # noqa: E402,F401
