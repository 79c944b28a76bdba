"""An OpenID provider for the tests, built on Authlib's server side: discovery, JWKS, the authorization-code flow
with PKCE and nonce, RS256-signed ID tokens, a sign-in form of its own.

Run as a real HTTP server on loopback (tests/providers/conftest.py starts it as a process):
``python -m tests.providers.oidc_provider CONFIG.json PORT``. The config names the clients (id, secret, allowed
redirect-URI prefixes) and the users (username, password, sub and claims such as email and employeeNumber)."""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from html import escape
from typing import Any

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # loopback http, tests only

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.models import ClientMixin
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from flask import Flask, jsonify, request
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_prefixes: list[str]

    def get_client_id(self): return self.client_id
    def get_default_redirect_uri(self): return None
    def get_allowed_scope(self, scope): return " ".join(s for s in scope.split() if s in {"openid", "profile", "email"})
    def check_redirect_uri(self, redirect_uri): return any(redirect_uri.startswith(p) for p in self.redirect_prefixes)
    def check_client_secret(self, client_secret): return client_secret == self.client_secret
    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post") if self.client_secret else method == "none"
    def check_response_type(self, response_type): return response_type == "code"
    def check_grant_type(self, grant_type): return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict[str, Any]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self): return self.redirect_uri
    def get_scope(self): return self.scope
    def get_nonce(self): return self.nonce
    def get_auth_time(self): return self.auth_time
    def get_acr(self): return None
    def get_amr(self): return None


def create_app(config: dict[str, Any]) -> Flask:
    app = Flask(__name__)
    issuer = config["issuer"]
    key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig", "alg": "RS256"})
    clients = {c["client_id"]: Client(c["client_id"], c.get("client_secret", ""), c["redirect_prefixes"])
               for c in config["clients"]}
    users = {u["username"]: u for u in config["users"]}
    codes: dict[str, Code] = {}

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

        def save_authorization_code(self, code, req):
            codes[code] = Code(code, req.client.client_id, req.payload.redirect_uri, req.scope, req.user,
                               req.payload.data.get("nonce"), req.payload.data.get("code_challenge"),
                               req.payload.data.get("code_challenge_method"))

        def query_authorization_code(self, code, client):
            item = codes.get(code)
            return item if item and item.client_id == client.client_id else None

        def delete_authorization_code(self, authorization_code):  # one use only
            codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code):
            return authorization_code.user

    class IdToken(OpenIDCode):
        def resolve_client_private_key(self, client): return key
        def get_client_algorithm(self, client): return "RS256"
        def get_encode_header(self, client): return {"alg": "RS256", "kid": key.kid}
        def get_client_claims(self, client):
            return {"iss": issuer, "aud": [client.get_client_id()], "exp": int(time.time()) + 600}
        def exists_nonce(self, nonce, req): return any(c.nonce == nonce for c in codes.values())
        def generate_user_info(self, user, scope):
            return UserInfo(sub=user["sub"], **{k: v for k, v in user.items()
                                                if k not in ("sub", "password", "username")},
                            preferred_username=user["username"])

    server = AuthorizationServer(app, query_client=clients.get, save_token=lambda token, req: None)
    server.register_grant(CodeGrant, [IdToken(require_nonce=True), CodeChallenge(required=True)])

    @app.get("/.well-known/openid-configuration")
    def discovery():
        return jsonify(issuer=issuer, authorization_endpoint=issuer + "/authorize", token_endpoint=issuer + "/token",
                       jwks_uri=issuer + "/jwks", response_types_supported=["code"], subject_types_supported=["public"],
                       id_token_signing_alg_values_supported=["RS256"], code_challenge_methods_supported=["S256"],
                       scopes_supported=["openid", "profile", "email"])

    @app.get("/jwks")
    def jwks():
        return jsonify(keys=[key.as_dict(private=False)])

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize():
        error = ""
        if request.method == "POST":
            user = users.get(request.form.get("username", ""))
            if user is not None and request.form.get("password") == user["password"]:
                return server.create_authorization_response(grant_user=user)
            error = "<p role='alert'>wrong username or password</p>"
        else:
            try:
                server.get_consent_grant(end_user=None)
            except Exception as exc:
                return f"<p>invalid request: {escape(str(exc))}</p>", 400
        return (f"<!doctype html><title>Test OpenID provider</title><h1>Test OpenID provider</h1>{error}"
                f"<form method='post'><label>Username <input name='username'></label>"
                f"<label>Password <input name='password' type='password'></label>"
                f"<button type='submit'>Sign in</button></form>")

    @app.post("/token")
    def token():
        return server.create_token_response()

    return app


def main() -> None:
    with open(sys.argv[1]) as f:
        config = json.load(f)
    port = int(sys.argv[2])
    make_server("127.0.0.1", port, create_app(config), threaded=True).serve_forever()


if __name__ == "__main__":
    main()
