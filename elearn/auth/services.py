"""Signing in: credentials checked with lockout, passwords changed or set, sessions loaded."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _

from elearn import clock
from elearn.audit import services as audit
from elearn.auth.passwords import check_policy, hash_password, verify_password
from elearn.errors import Forbidden, NotAuthenticated, ServiceError, TooManyAttempts
from elearn.extensions import db
from elearn.orgs import members as users
from elearn.orgs import services as orgs
from elearn.orgs.models import User

_dummy: list[str] = []  # a hash computed once, checked against when the username does not exist

# -- authentication ---------------------------------------------------------------------------------

def authenticate(username: str, password: str) -> User:
    """Return the user for correct credentials; count failures and lock the account for a while after
    too many. The message never tells whether the username exists."""
    cfg = current_app.config
    user = users.by_username(username or "")
    bad = NotAuthenticated(_("用户名或密码不正确。"), "bad_credentials")
    if user is None:
        # Same cost as a real check, so timing does not reveal which usernames exist.
        verify_password(_dummy_hash(), password or "")
        raise bad
    now = clock.now_utc()
    if user.locked_until and user.locked_until > now:
        raise TooManyAttempts(_("尝试次数过多，账号已临时锁定，请稍后再试。"), "locked")
    if not verify_password(user.password_hash, password or ""):
        user.failed_logins += 1
        if user.failed_logins >= cfg["ELEARN_LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(seconds=cfg["ELEARN_LOGIN_LOCKOUT_SECONDS"])
            user.failed_logins = 0
        db.session.commit()
        raise bad
    if not user.active:
        raise Forbidden(_("该账号已停用。"), "inactive")
    user.failed_logins = 0
    user.locked_until = None
    db.session.commit()
    return user


def _dummy_hash() -> str:
    if not _dummy:
        _dummy.append(hash_password("not-a-real-password-0"))
    return _dummy[0]


def change_password(user: User, current: str, new: str) -> None:
    """Change the user's own password; every other session of the user ends."""
    if not verify_password(user.password_hash, current or ""):
        raise ServiceError(_("当前密码不正确。"), "bad_current_password")
    if current == new:
        raise ServiceError(_("新密码不能与当前密码相同。"), "same_password")
    set_password(None, user, new)


def set_password(actor: User | None, user: User, new: str) -> None:
    if actor is not None:
        orgs.require_manage(actor, user.organisation)
    check_policy(new, user.username)
    user.password_hash = hash_password(new)
    user.session_version += 1
    audit.record(actor or user, "user.password", user)
    db.session.commit()


def load_session_user(session_id: str) -> User | None:
    """flask-login's loader: ``"<id>:<session_version>"``; an old version means the password changed."""
    try:
        uid, version = (int(x) for x in session_id.split(":", 1))
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, uid)
    if user is None or user.session_version != version or not user.active:
        return None
    return user
