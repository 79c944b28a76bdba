"""The JSON API under ``/api/v1``: a blueprint per domain (:func:`api_blueprint`), each route declared with
:func:`operation` and its payload models, from which ``/api/v1/openapi.json`` is generated
(:mod:`elearn.http.openapi`), so what is validated and what is described cannot drift apart.

Authentication (session cookie or ``Authorization: Bearer <token>``, and the CSRF header on cookie writes) is
the auth domain's request hook; here a route only says whether it needs a signed-in user and which token
scope (:data:`SCOPES`) it needs. A token carries the scopes chosen when it was issued; a cookie session has
every scope. Scopes only narrow what a token may do: the role and organisation rules of each route still apply.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel

from elearn.errors import ServiceError
from elearn.http.errors import json_error
from elearn.http.schemas import json_body, query_args

API_PREFIX = "/api/v1"
# What a token may be used for: reading, reporting one's own study (progress, answers, …), administering.
SCOPES = ("read", "study", "admin")
SCOPE_DESCRIPTIONS = {
    "read": "read what the user may see",
    "study": "report the user's own study (progress, answers, reading)",
    "admin": "administer within the user's role (and the token's organisation limit)",
}


@dataclass
class Operation:
    """One documented route: what it accepts and what it answers."""

    rule: str  # Flask rule, relative to API_PREFIX
    method: str
    operation_id: str
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    errors: dict[int, str] = field(default_factory=dict)
    auth: bool = True
    scope: str = "read"
    etag: bool = False  # answers with an ETag and 304 to a matching If-None-Match
    # A multipart/form-data upload (a file and its form fields) instead of a JSON body: the JSON schema of the
    # form, read by the view itself (request.files, request.form).
    multipart: dict[str, Any] | None = None

    @property
    def path(self) -> str:
        """The OpenAPI path: ``/lessons/<int:lesson_id>/x`` → ``/lessons/{lesson_id}/x``."""
        return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", self.rule)

    @property
    def path_params(self) -> list[tuple[str, str]]:
        return [(name, conv or "string") for conv, name in re.findall(r"<(?:([a-z]+):)?([a-z_]+)>", self.rule)]


View = Callable[..., Any]
OPERATIONS: list[Operation] = []
# create_app exempts these from the form CSRF check: the auth hook checks the X-CSRFToken header instead.
API_BLUEPRINTS: list[Blueprint] = []


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint whose routes live under ``/api/v1`` and are never cached."""
    bp = Blueprint(name, import_name, url_prefix=API_PREFIX)
    bp.after_request(_no_store)
    API_BLUEPRINTS.append(bp)
    return bp


def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def per_user() -> str:
    """Rate-limit key: the signed-in user (a token's or a session's), else the address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{request.remote_addr or ''}"


def unauthorized() -> Response:
    return json_error(401, "unauthorized", _("需要登录或 API 令牌。"))


def token_scopes() -> frozenset[str] | None:
    """The scopes of the bearer token authenticating this request, or None for a cookie session (every scope)."""
    token = g.get("api_token")
    if token is None:
        return None
    return frozenset(token.scope_list)


def insufficient_scope(scope: str) -> Response:
    return json_error(403, "insufficient_scope", _("该令牌没有此操作所需的权限范围：%(scope)s。", scope=scope))


def operation(bp: Blueprint, rule: str, *, method: str = "GET", summary: str, operation_id: str,
              body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
              response: type[BaseModel] | None = None, errors: dict[int, str] | None = None,
              auth: bool = True, scope: str | None = None, etag: bool = False,
              multipart: dict[str, Any] | None = None,
              invalid_code: str = "invalid_payload",
              on_invalid: Callable[[ServiceError], None] | None = None) -> Callable[[View], View]:
    """Route ``rule`` of ``bp``: the view receives the validated ``body=`` and ``query=`` models and returns a
    ``response`` model (or a Flask response). 401 without a signed-in user when ``auth``; 403
    ``insufficient_scope`` for a token without ``scope`` (default: ``read`` for GET, ``study`` for writes);
    400 with ``invalid_code`` for a payload that does not fit (after calling ``on_invalid`` with the error).
    ``etag`` only documents that the view answers with :func:`elearn.http.paging.etagged`."""
    method = method.upper()
    scope = scope or ("read" if method in ("GET", "HEAD") else "study")
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    op = Operation(rule=rule, method=method, operation_id=operation_id, summary=summary, body=body,
                   query=query, response=response, errors=dict(errors or {}), auth=auth, scope=scope, etag=etag,
                   multipart=multipart)
    if auth:
        op.errors.setdefault(401, "not authenticated")
        op.errors.setdefault(403, f"the token lacks the {scope!r} scope, or the user may not do this")
    if body is not None or query is not None:
        op.errors.setdefault(400, "payload does not fit the schema")

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(**path_args: Any) -> Any:
            if auth and not current_user.is_authenticated:
                return unauthorized()
            scopes = token_scopes()
            if auth and scopes is not None and scope not in scopes:
                return insufficient_scope(scope)
            kwargs: dict[str, Any] = dict(path_args)
            if body is not None:
                try:
                    kwargs["body"] = json_body(body, invalid_code)
                except ServiceError as exc:
                    if on_invalid is not None:
                        on_invalid(exc)
                    raise
            if query is not None:
                kwargs["query"] = query_args(query, invalid_code)
            result = view(**kwargs)
            if isinstance(result, BaseModel):
                return jsonify(result.model_dump(mode="json"))
            return result

        bp.add_url_rule(rule, view_func=wrapped, methods=[op.method])
        OPERATIONS.append(op)
        return wrapped
    return decorate
