"""API bearer tokens: issued once, stored as SHA-256, revocable."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from elearn import clock
from elearn.access import Role
from elearn.audit import services as audit
from elearn.auth.models import ApiToken
from elearn.errors import Forbidden, NotFound, ServiceError
from elearn.extensions import db, rowcount
from elearn.orgs.models import User

PREFIX = "elt_"
TOUCH_INTERVAL = timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user: User, name: str = "api") -> str:
    """Create a token for ``user`` and return it in clear; only its hash is kept."""
    if not user.active:
        raise ServiceError(_("该账号已停用。"), "inactive")
    token = PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, name=(name or "api")[:100], token_hash=_digest(token)))
    db.session.commit()
    return token


def user_for(token: str) -> User | None:
    """The active user a presented token belongs to, or None for an unknown or revoked token."""
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
    return row.user


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
