"""Authentication of API requests (bearer tokens, or the session cookie with a CSRF header on writes) and
the signed-in user's profile (``/api/v1/me``) and their own settings on it (the age-friendly mode)."""
from __future__ import annotations

from flask import Flask, Response, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from pydantic import BaseModel, Field
from wtforms.validators import ValidationError

from elearn.auth import age_friendly, tokens
from elearn.http.api import API_PREFIX, api_blueprint, insufficient_scope, operation
from elearn.http.errors import json_error
from elearn.http.schemas import Payload
from elearn.orgs import members

bp = api_blueprint("auth_api", __name__)


def authenticate_api_request() -> Response | None:
    """Before every ``/api/v1`` request: a bearer token sets the request's user without a session (a token
    call mints no cookie); without one, a cookie-authenticated write must carry the ``X-CSRFToken`` header or
    a ``csrf_token`` query parameter (a cross-site page can send the cookie but cannot read the token)."""
    if request.path.startswith(MEDIA_PREFIX) and request.method in ("GET", "HEAD"):
        return _authenticate_media_request()
    if not request.path.startswith(API_PREFIX + "/"):
        return None
    g.api_token_auth = False
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return json_error(401, "unauthorized", _("Authorization 头格式应为 Bearer <令牌>。"))
        token = tokens.token_for(value.strip())
        if token is None:
            return json_error(401, "unauthorized", _("令牌无效或已吊销。"))
        g._login_user = token.user
        g.api_token = token  # its scopes and organisation limit (elearn.http.api.operation, tokens.within_limit)
        g.api_token_auth = True
        return None
    if request.method not in ("GET", "HEAD", "OPTIONS") and current_user.is_authenticated:
        # A beacon (navigator.sendBeacon, the player's last report as a page closes) cannot set headers: it
        # carries the token as ?csrf_token= instead; a cross-site page can read neither.
        try:
            validate_csrf(request.headers.get("X-CSRFToken") or request.args.get("csrf_token", ""))
        except (ValidationError, CSRFError):
            return json_error(400, "csrf", _("缺少或无效的 CSRF 令牌（X-CSRFToken 头）。"))
    return None


# The HLS files a lesson's playback names (playlists, keys, segments): an app or mini-program that plays with a
# token fetches them with the same bearer header as its API calls (``GET /api/v1/lessons/<id>`` hands out the URL).
MEDIA_PREFIX = "/learn/media/"


def _authenticate_media_request() -> Response | None:
    """A bearer token on a media file sets the request's user, as on the API, when the token may study (a key is
    the evidence that a playback session can play its segment); without the header the session cookie decides."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _sep, value = header.partition(" ")
    token = tokens.token_for(value.strip()) if scheme.lower() == "bearer" and value.strip() else None
    if token is None:
        return json_error(401, "unauthorized", _("令牌无效或已吊销。"))
    if "study" not in token.scope_list:
        return insufficient_scope("study")
    g._login_user = token.user
    g.api_token = token
    g.api_token_auth = True
    return None


def init_app(app: Flask) -> None:
    app.before_request(authenticate_api_request)


class OrganisationSummary(BaseModel):
    id: int
    name: str
    sector: str


class Me(BaseModel):
    id: int
    username: str
    name: str
    role: str
    category: str
    exempt: bool
    organisation: OrganisationSummary
    responsible_organisation_id: int
    age_friendly: bool = Field(description="the age-friendly mode (适老化: larger text, higher contrast, a simplified "
                                           "home) is on for this account")


class MeUpdate(Payload):
    """My settings to change."""

    age_friendly: bool = Field(description="turn the age-friendly mode of my account on or off")


def _me() -> Me:
    u = current_user
    return Me(id=u.id, username=u.username, name=u.name, role=str(u.role), category=u.category, exempt=u.exempt,
              organisation=OrganisationSummary(id=u.organisation.id, name=u.organisation.name,
                                               sector=u.organisation.sector),
              responsible_organisation_id=members.responsible_org(u).id, age_friendly=u.age_friendly)


@operation(bp, "/me", operation_id="getMe", summary="The current user's profile", response=Me)
def me() -> Me:
    """The current user's profile."""
    return _me()


@operation(bp, "/me", method="PATCH", operation_id="updateMe", body=MeUpdate, response=Me,
           summary="Change my own settings (the age-friendly mode)")
def update_me(body: MeUpdate) -> Me:
    """A value that is not a JSON boolean, or an unknown field, is a 400 ``invalid_payload`` and changes nothing."""
    age_friendly.set_mode(current_user, body.age_friendly)
    return _me()
