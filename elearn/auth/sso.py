"""Sign-in through the organisations' own accounts: CAS 2/3 (python-cas) and OpenID Connect (Authlib's client,
ID tokens checked with joserfc), several providers at once, each configured by environment
(``ELEARN_SSO_PROVIDERS``, elearn.config).

A provider's answer (an :class:`Assertion`: its id of the account and its attributes) signs in the member it is
linked to (``SignInIdentity``), or else the one existing member whose username or e-mail equals the configured
attribute, and that link is then recorded. Nobody is ever created here, and no role is given: an account the
provider knows but we do not gets a clear refusal. The caller goes on through the same post-sign-in rules as a
password (two-factor, session rules, the audit entry of a sign-in).

Organisations can turn local passwords off for their subtree (``Organisation.local_passwords_off``): their
members sign in through a provider only; site admins always keep their password (a way in when a provider is
down or misconfigured).

The provider round trip is bound to the browser: the state (and for OIDC the nonce and PKCE verifier) travel in
the signed session cookie, for CAS the state is part of the service URL the ticket is issued for, and a return
later than ``SIGN_IN_PROVIDERS.pending_seconds`` is refused."""
from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.integrations.requests_client import OAuth2Session
from cas import CASClient
from flask import current_app
from flask_babel import gettext as _
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select

from elearn import clock
from elearn.access import Role
from elearn.audit import services as audit
from elearn.auth.models import SignInIdentity
from elearn.errors import Conflict, Forbidden, NotAuthenticated, NotFound, ServiceError
from elearn.extensions import db
from elearn.orgs import contacts
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.policy import SIGN_IN_PROVIDERS
from elearn.security import fields as pii

KINDS = ("cas", "oidc")
MATCH_FIELDS = ("username", "email")


class ProviderUnavailable(ServiceError):
    """The provider did not answer (down, unreachable, slow, or an answer that is not CAS/OIDC)."""

    default_code = "provider_unavailable"


@dataclass(frozen=True)
class Provider:
    """One configured sign-in provider."""

    id: str
    kind: str  # KINDS
    label: str
    # Our side of the match (a member's username or e-mail) and the provider's attribute compared with it
    # ("" = CAS's user / OIDC's preferred_username for a username, "email"/"mail" for an e-mail; an employee
    # number is an attribute such as "employeeNumber" matched against usernames).
    match_by: str = "username"
    attribute: str = ""
    server_url: str = ""  # CAS: the server's base URL (…/cas/)
    cas_version: int = 3
    issuer: str = ""  # OIDC: the issuer; discovery at <issuer>/.well-known/openid-configuration
    client_id: str = ""
    client_secret: str = ""
    scope: str = "openid profile email"


@dataclass
class Assertion:
    """What a provider said about the person who came back: its id of the account and its attributes."""

    provider: Provider
    subject: str
    attributes: dict[str, Any] = field(default_factory=dict)

    def match_value(self) -> str | None:
        p = self.provider
        if p.attribute:
            value = self.attributes.get(p.attribute)
        elif p.match_by == "email":
            value = self.attributes.get("email") or self.attributes.get("mail")
        elif p.kind == "cas":
            value = self.subject
        else:
            value = self.attributes.get("preferred_username")
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else None
        return str(value).strip() if value not in (None, "") else None


# -- configuration -----------------------------------------------------------------------------------------

def _check(raw: dict[str, Any]) -> Provider:
    pid = str(raw.get("id", "")).strip().lower()
    kind = str(raw.get("kind", "")).strip().lower()
    if not pid.isidentifier() or len(pid) > 40:
        raise ValueError(f"sign-in provider id {pid!r}: letters, digits and _ only, at most 40")
    if kind not in KINDS:
        raise ValueError(f"sign-in provider {pid}: KIND must be one of {KINDS}, not {kind!r}")
    match_by = str(raw.get("match_by") or "username").strip().lower()
    if match_by not in MATCH_FIELDS:
        raise ValueError(f"sign-in provider {pid}: MATCH_BY must be one of {MATCH_FIELDS}")
    p = Provider(id=pid, kind=kind, label=str(raw.get("label") or pid), match_by=match_by,
                 attribute=str(raw.get("attribute") or "").strip(),
                 server_url=str(raw.get("server_url") or "").strip(),
                 cas_version=int(raw.get("cas_version") or 3),
                 issuer=str(raw.get("issuer") or "").strip().rstrip("/"),
                 client_id=str(raw.get("client_id") or ""), client_secret=str(raw.get("client_secret") or ""),
                 scope=str(raw.get("scope") or "openid profile email"))
    if kind == "cas" and (not p.server_url or p.cas_version not in (2, 3)):
        raise ValueError(f"sign-in provider {pid}: CAS needs SERVER_URL and CAS_VERSION 2 or 3")
    if kind == "oidc" and not (p.issuer and p.client_id):
        raise ValueError(f"sign-in provider {pid}: OpenID Connect needs ISSUER and CLIENT_ID")
    return p


def check_config(config: Any) -> dict[str, Provider]:
    """The providers of an app's ``config``, checked: a wrong setting stops the app at start-up with the setting
    named (ValueError), never a half-working sign-in page."""
    found = [_check(dict(raw)) for raw in config.get("ELEARN_SSO_PROVIDERS") or []]
    ids = [p.id for p in found]
    if len(set(ids)) != len(ids):
        raise ValueError(f"ELEARN_SSO_PROVIDERS names a provider twice: {ids}")
    return {p.id: p for p in found}


def init_app(app: Any) -> None:
    app.extensions["elearn_sso"] = {"providers": check_config(app.config), "metadata": {}}


def providers() -> dict[str, Provider]:
    """The configured providers by id, in the configured order."""
    return dict(current_app.extensions["elearn_sso"]["providers"])


def provider(pid: str) -> Provider:
    p = providers().get(pid)
    if p is None:
        raise NotFound(_("没有这个统一身份认证方式。"), "unknown_provider")
    return p


class _TimedSession(requests.Session):
    """Every request to a provider gives up after the policy's timeout (python-cas sets none of its own)."""

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", SIGN_IN_PROVIDERS.timeout_s)
        return super().request(method, url, *args, **kwargs)


def _down(p: Provider) -> ProviderUnavailable:
    return ProviderUnavailable(_("暂时无法连接%(name)s，请稍后再试，或联系您所在组织的管理员。", name=p.label))


def _refused_ticket(p: Provider) -> NotAuthenticated:
    return NotAuthenticated(_("%(name)s未能确认您的身份（登录凭据无效或已使用过），请重新登录。", name=p.label),
                            "sso_invalid")


def _state_mismatch() -> ServiceError:
    return ServiceError(_("登录请求已失效或不属于此浏览器，请重新从登录页开始。"), "sso_state")


# -- the round trip ----------------------------------------------------------------------------------------

def begin(p: Provider, callback_url: str) -> tuple[str, dict[str, Any]]:
    """Where to send the browser for ``p``, and what to keep in its session until it comes back."""
    pending: dict[str, Any] = {"provider": p.id, "state": secrets.token_urlsafe(24), "at": _epoch()}
    if p.kind == "cas":
        return _cas(p, _cas_service(callback_url, pending["state"])).get_login_url(), pending
    meta = _oidc_metadata(p)
    pending["nonce"] = secrets.token_urlsafe(24)
    pending["verifier"] = secrets.token_urlsafe(48)
    client = _oidc_client(p, callback_url)
    url, _state = client.create_authorization_url(meta["authorization_endpoint"], state=pending["state"],
                                                  code_verifier=pending["verifier"], nonce=pending["nonce"])
    return url, pending


def finish(p: Provider, pending: dict[str, Any] | None, args: dict[str, str], callback_url: str) -> Assertion:
    """Check what the browser brought back from ``p`` against what its session kept; the provider's answer.
    A foreign, replayed, late or forged return, a wrong ticket or code, a bad ID token: a refusal that
    changes nothing."""
    state = args.get("state") or ""
    if not pending or pending.get("provider") != p.id or not isinstance(pending.get("state"), str) \
            or not hmac.compare_digest(pending["state"], state) \
            or not 0 <= _epoch() - int(pending.get("at", 0)) <= SIGN_IN_PROVIDERS.pending_seconds:
        raise _state_mismatch()
    if p.kind == "cas":
        return _cas_finish(p, args.get("ticket") or "", _cas_service(callback_url, state))
    return _oidc_finish(p, pending, args, callback_url)


def _epoch() -> int:
    return int(clock.now_utc().replace(tzinfo=UTC).timestamp())


def _cas_service(callback_url: str, state: str) -> str:
    # The state is part of the service the ticket is issued for: a ticket works only for the browser that went.
    return callback_url + ("&" if "?" in callback_url else "?") + urlencode({"state": state})


def _cas(p: Provider, service: str) -> Any:
    return CASClient(version=p.cas_version, service_url=service, server_url=p.server_url,
                     session=_TimedSession())


def _cas_finish(p: Provider, ticket: str, service: str) -> Assertion:
    if not ticket or len(ticket) > 256:
        raise _refused_ticket(p)
    try:
        user, attributes, _pgtiou = _cas(p, service).verify_ticket(ticket)
    except requests.RequestException as exc:
        raise _down(p) from exc
    except Exception as exc:  # python-cas raises whatever its XML parser does on a non-CAS answer
        raise _down(p) from exc
    if not user:
        raise _refused_ticket(p)
    return Assertion(p, str(user), dict(attributes or {}))


def _get_json(p: Provider, url: str) -> dict[str, Any]:
    try:
        response = _TimedSession().get(url)
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise _down(p) from exc
    if not isinstance(data, dict):
        raise _down(p)
    return data


def _oidc_metadata(p: Provider) -> dict[str, Any]:
    """The provider's discovery document and keys, kept for ``metadata_seconds``."""
    cache = current_app.extensions["elearn_sso"]["metadata"]
    kept = cache.get(p.id)
    if kept and time.monotonic() - kept["fetched"] < SIGN_IN_PROVIDERS.metadata_seconds:
        return kept["meta"]
    meta = _get_json(p, p.issuer + "/.well-known/openid-configuration")
    if meta.get("issuer", "").rstrip("/") != p.issuer or not all(
            isinstance(meta.get(k), str) for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")):
        raise _down(p)
    meta = {**meta, "jwks": _get_json(p, meta["jwks_uri"])}
    cache[p.id] = {"meta": meta, "fetched": time.monotonic()}
    return meta


def _oidc_client(p: Provider, callback_url: str) -> OAuth2Session:
    client = OAuth2Session(p.client_id, p.client_secret or None, scope=p.scope, redirect_uri=callback_url,
                           code_challenge_method="S256",
                           token_endpoint_auth_method="client_secret_basic" if p.client_secret else "none")
    client.mount("http://", requests.adapters.HTTPAdapter())  # (no retries: a provider down answers at once)
    return client


def _oidc_finish(p: Provider, pending: dict[str, Any], args: dict[str, str], callback_url: str) -> Assertion:
    if args.get("error"):
        raise NotAuthenticated(_("%(name)s拒绝了登录请求。", name=p.label), "sso_denied")
    code = args.get("code") or ""
    if not code or len(code) > 512:
        raise _refused_ticket(p)
    meta = _oidc_metadata(p)
    client = _oidc_client(p, callback_url)
    try:
        token = client.fetch_token(meta["token_endpoint"], code=code, code_verifier=pending.get("verifier"),
                                   timeout=SIGN_IN_PROVIDERS.timeout_s)
    except requests.RequestException as exc:
        raise _down(p) from exc
    except Exception as exc:  # Authlib's OAuthError: the provider refused the code
        raise _refused_ticket(p) from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise _refused_ticket(p)
    claims = _check_id_token(p, meta, id_token, str(pending.get("nonce") or ""))
    return Assertion(p, str(claims["sub"]), claims)


def _check_id_token(p: Provider, meta: dict[str, Any], id_token: str, nonce: str) -> dict[str, Any]:
    """The ID token's signature (the provider's published keys), issuer, audience, times and nonce."""
    algorithms = [a for a in meta.get("id_token_signing_alg_values_supported") or ["RS256"] if a != "none"]
    try:
        keys = KeySet.import_key_set(meta["jwks"])
        token = jwt.decode(id_token, keys, algorithms=algorithms)
        now = _epoch()
        jwt.JWTClaimsRegistry(now=now, leeway=SIGN_IN_PROVIDERS.leeway_s,
                              iss={"essential": True, "value": p.issuer},
                              aud={"essential": True, "value": p.client_id},
                              sub={"essential": True}, exp={"essential": True},
                              nonce={"essential": True, "value": nonce}).validate(token.claims)
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise NotAuthenticated(_("%(name)s返回的身份凭据无法验证，请重新登录。", name=p.label),
                               "sso_bad_token") from exc
    return dict(token.claims)


# -- accounts ----------------------------------------------------------------------------------------------

def _identity(p: Provider, subject: str) -> SignInIdentity | None:
    return db.session.execute(select(SignInIdentity).where(
        SignInIdentity.provider == p.id, SignInIdentity.subject == subject[:255])).scalar_one_or_none()


def _matched(assertion: Assertion) -> User | None:
    """The one existing member whose username or e-mail (by its keyed hash: it is stored encrypted) is the
    provider's attribute; None for none or for several."""
    value = assertion.match_value()
    if not value:
        return None
    if assertion.provider.match_by == "username":
        stmt = select(User).where(User.username == value)
    else:
        try:
            email = contacts.email(value)
        except ServiceError:
            return None
        stmt = select(User).where(User.email_hash.in_(pii.lookup_hashes(email)))
    found = list(db.session.execute(stmt.limit(2)).scalars())
    return found[0] if len(found) == 1 else None


def _unknown(p: Provider) -> NotAuthenticated:
    return NotAuthenticated(_("%(name)s的账号与本站的任何党员账号都不对应。请联系您所在组织的管理员核对账号信息；"
                              "已有本站账号的，可登录后在“统一身份认证”页面关联。", name=p.label), "sso_unknown")


def resolve(assertion: Assertion) -> User:
    """The member ``assertion`` signs in: the linked one, or the one matched by the attribute (the link is
    recorded then). Unknown, taken-away or ambiguous accounts and deactivated members are refused."""
    p = assertion.provider
    now = clock.now_utc()
    row = _identity(p, assertion.subject)
    if row is not None and row.unlinked_at is not None:
        raise _unknown(p)
    if row is None:
        user = _matched(assertion)
        if user is None or _linked_row(user, p) is not None:
            raise _unknown(p)
        if not user.active:
            raise Forbidden(_("该账号已停用。"), "inactive")
        row = SignInIdentity(user_id=user.id, provider=p.id, subject=assertion.subject[:255], linked_at=now)
        db.session.add(row)
        db.session.flush()
        audit.record(user, "auth.sso.link", row, after={"provider": p.id, "how": "matched"})
    else:
        user = db.session.get(User, row.user_id)
        if user is None or not user.active:
            db.session.rollback()
            raise Forbidden(_("该账号已停用。"), "inactive")
    row.last_used_at = now
    audit.record(user, "auth.sso.login", row, after={"provider": p.id})
    db.session.commit()
    return user


def _linked_row(user: User, p: Provider) -> SignInIdentity | None:
    return db.session.execute(select(SignInIdentity).where(
        SignInIdentity.user_id == user.id, SignInIdentity.provider == p.id,
        SignInIdentity.unlinked_at.is_(None))).scalar_one_or_none()


def link(user: User, assertion: Assertion) -> None:
    """``user`` (signed in) links the provider account they just proved at the provider (audited)."""
    p = assertion.provider
    if _linked_row(user, p) is not None:
        raise Conflict(_("您的账号已关联%(name)s，请先解除原有关联。", name=p.label), "sso_already_linked")
    row = _identity(p, assertion.subject)
    if row is not None and row.unlinked_at is None and row.user_id != user.id:
        raise Conflict(_("这个%(name)s账号已关联本站的另一个账号。", name=p.label), "sso_taken")
    now = clock.now_utc()
    if row is None:
        row = SignInIdentity(user_id=user.id, provider=p.id, subject=assertion.subject[:255], linked_at=now)
        db.session.add(row)
    else:
        row.user_id, row.linked_at, row.unlinked_at = user.id, now, None
    db.session.flush()
    audit.record(user, "auth.sso.link", row, after={"provider": p.id, "how": "account page"})
    db.session.commit()


def unlink(user: User, pid: str) -> None:
    """``user`` takes away their link to provider ``pid``: it no longer signs in, nor is it matched again."""
    p = provider(pid)
    row = _linked_row(user, p)
    if row is None:
        raise NotFound(_("您的账号没有关联%(name)s。", name=p.label), "sso_not_linked")
    row.unlinked_at = clock.now_utc()
    audit.record(user, "auth.sso.unlink", row, after={"provider": p.id})
    db.session.commit()


def links_of(user: User) -> list[dict[str, Any]]:
    """Each configured provider with whether ``user`` has linked it (for the account page)."""
    rows = {r.provider: r for r in db.session.execute(select(SignInIdentity).where(
        SignInIdentity.user_id == user.id, SignInIdentity.unlinked_at.is_(None))).scalars()}
    return [{"id": p.id, "label": p.label, "linked": p.id in rows,
             "linked_at": rows[p.id].linked_at if p.id in rows else None,
             "last_used_at": rows[p.id].last_used_at if p.id in rows else None} for p in providers().values()]


# -- local passwords per organisation ----------------------------------------------------------------------

def path_ids(org: Organisation) -> list[int]:
    return [int(part) for part in org.path.strip("/").split("/") if part]


def passwords_off_at(org: Organisation) -> Organisation | None:
    """The organisation (``org`` or an ancestor) that turned local passwords off for ``org``; None if none."""
    ids = path_ids(org) or [org.id]
    return db.session.execute(select(Organisation).where(Organisation.id.in_(ids),
                                                         Organisation.local_passwords_off.is_(True))
                              .order_by(Organisation.path).limit(1)).scalar_one_or_none()


def password_allowed(user: User) -> bool:
    """May ``user`` sign in with a password? Not in a subtree with local passwords off, unless a site admin."""
    return user.role == Role.SITE_ADMIN or passwords_off_at(user.organisation) is None


def set_local_passwords(actor: User, org: Organisation, *, off: bool) -> None:
    """An admin of ``org`` or above turns its subtree's local passwords off (or back on; audited). Turning them
    off needs a provider configured, else its members would have no way in."""
    orgs.require_manage(actor, org)
    if off and not providers():
        raise ServiceError(_("本站尚未配置统一身份认证，不能关闭本地密码登录。"), "no_provider")
    if org.local_passwords_off == off:
        return
    audit.record(actor, "org.local_passwords", org, before={"off": org.local_passwords_off}, after={"off": off})
    org.local_passwords_off = off
    db.session.commit()
