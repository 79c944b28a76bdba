"""API bearer tokens: issued once, stored as SHA-256, revocable; each with scopes (``elearn.http.api.SCOPES``)
and, for an admin, an optional organisation limit (a subtree inside the admin's own)."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from flask import g
from flask_babel import gettext as _
from sqlalchemy import select, update

from elearn import clock
from elearn.access import Role
from elearn.audit import services as audit
from elearn.auth.models import ApiToken
from elearn.errors import Forbidden, NotFound, ServiceError
from elearn.extensions import db, rowcount
from elearn.http.api import SCOPES
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User

PREFIX = "elt_"
TOUCH_INTERVAL = timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


DEFAULT_SCOPES = ("read", "study")


def parse_scopes(value: str | Iterable[str]) -> list[str]:
    """Scopes from ``"read,study"`` / ``"read study"`` or a list, in the canonical order; ServiceError for an
    unknown one or none."""
    items = value.replace(",", " ").split() if isinstance(value, str) else [str(v).strip() for v in value]
    unknown = sorted(set(items) - set(SCOPES))
    if unknown:
        raise ServiceError(_("未知的权限范围：%(scopes)s（可选：%(known)s）。", scopes=", ".join(unknown),
                             known=", ".join(SCOPES)), "bad_scope")
    if not items:
        raise ServiceError(_("请至少选择一个权限范围。"), "no_scope")
    return [s for s in SCOPES if s in items]


def issue(user: User, name: str = "api", *, scopes: str | Iterable[str] = DEFAULT_SCOPES,
          organisation: Organisation | None = None) -> str:
    """Create a token for ``user`` with ``scopes`` (``admin`` only for admins), limited to the subtree of
    ``organisation`` (admin tokens only; it must be one ``user`` manages), and return it in clear; only its
    hash is kept."""
    if not user.active:
        raise ServiceError(_("该账号已停用。"), "inactive")
    chosen = parse_scopes(scopes)
    if "admin" in chosen and user.role not in (Role.ORG_ADMIN, Role.SITE_ADMIN):
        raise ServiceError(_("只有管理员的令牌可以有管理权限。"), "admin_scope_denied")
    if organisation is not None:
        if "admin" not in chosen:
            raise ServiceError(_("组织范围只适用于有管理权限的令牌。"), "limit_without_admin")
        if not orgs.can_manage(user, organisation):
            raise ServiceError(_("令牌的组织范围必须在您管理的组织之内。"), "limit_outside")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user, name=(name or "api")[:100], token_hash=_digest(token), scopes=" ".join(chosen),
                   organisation=organisation)
    db.session.add(row)
    db.session.flush()
    audit.record(user, "token.issue", row, after={"scopes": row.scopes, "organisation_id": row.organisation_id})
    db.session.commit()
    return token


def token_for(token: str) -> ApiToken | None:
    """The live token row a presented token is (its user active), or None for an unknown or revoked token."""
    if not token or not token.startswith(PREFIX):
        return None
    row = db.session.execute(select(ApiToken).where(ApiToken.token_hash == _digest(token))).scalar_one_or_none()
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    now = clock.now_utc()
    # Heartbeats arrive every few seconds: record use at most every few minutes, not a write per request.
    if row.last_used_at is None or now - row.last_used_at > TOUCH_INTERVAL:
        row.last_used_at = now
        db.session.commit()
    return row


def user_for(token: str) -> User | None:
    """The active user a presented token belongs to, or None for an unknown or revoked token."""
    row = token_for(token)
    return row.user if row is not None else None


def organisation_limit() -> Organisation | None:
    """The organisation the bearer token of this request is limited to (None: a cookie session or an
    unlimited token). Admin endpoints see only its subtree, on top of the user's own rules. A limit that the
    user no longer manages (moved, demoted) leaves nothing in reach rather than widening."""
    row = g.get("api_token")
    return row.organisation if row is not None else None


def within_limit(org: Organisation) -> bool:
    """``org`` is inside this request's token limit (always, without one)."""
    limit = organisation_limit()
    return limit is None or org.is_within(limit)


def admin_reach(actor: User) -> Organisation | None:
    """For an admin endpoint of the API: Forbidden unless ``actor`` is an admin (and still manages their token's
    limit); the root of what the request may reach: the token's limit, else the org admin's own organisation,
    else None (a site admin: everything)."""
    if actor.role not in (Role.ORG_ADMIN, Role.SITE_ADMIN):
        raise Forbidden(_("需要管理员权限。"))
    limit = organisation_limit()
    if limit is not None:
        if not orgs.can_manage(actor, limit):
            raise Forbidden(_("该令牌的组织范围已不在您的管理范围内。"), "limit_outside")
        return limit
    return orgs.admin_root(actor)


def reachable_org(actor: User, org_id: int | None) -> Organisation:
    """The organisation ``org_id`` if ``actor`` manages it and it is inside the token's limit; NotFound otherwise
    (ids out of reach are not confirmed). Forbidden for non-admins."""
    admin_reach(actor)
    org = orgs.managed_org(actor, org_id)
    if not within_limit(org):
        raise NotFound(_("组织不存在。"))
    return org


def user_within_limit(user: User) -> bool:
    """The member belongs, or belonged, to an organisation inside the token's limit (both sides of a transfer
    see the record, as on the pages)."""
    limit = organisation_limit()
    if limit is None:
        return True
    return user.organisation.is_within(limit) or any(m.organisation.is_within(limit) for m in user.memberships)


def list_for(user: User) -> list[ApiToken]:
    return list(db.session.execute(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())).scalars())


def revoke(actor: User, token_id: int) -> None:
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise NotFound()
    if row.user_id != actor.id and actor.role != Role.SITE_ADMIN:
        raise Forbidden()
    if row.revoked_at is None:
        row.revoked_at = clock.now_utc()
        audit.record(actor, "token.revoke", row)
        db.session.commit()


def revoke_all(user: User, *, commit: bool = True) -> int:
    """Revoke every token of ``user`` (a password change that asks for it). Returns how many."""
    n = rowcount(db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                                    .values(revoked_at=clock.now_utc()).execution_options(synchronize_session=False)))
    if commit:
        db.session.commit()
    return n
