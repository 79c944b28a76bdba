"""Signing in: credentials checked with lockout, passwords changed or set, and the server-side login sessions
(one row per signed-in browser, checked on every request and ended at once by logout, "sign out everywhere", a
password change or reset, deactivation)."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app, g
from flask_babel import gettext as _
from sqlalchemy import select, update

from elearn import clock
from elearn.audit import services as audit
from elearn.auth import passwords, reset, session_rules, sso, tokens
from elearn.auth.models import LoginSession
from elearn.auth.passwords import check_policy, hash_password, needs_rehash, verify_password
from elearn.errors import Forbidden, NotAuthenticated, ServiceError
from elearn.extensions import db, rowcount
from elearn.orgs import members as users
from elearn.orgs import services as orgs
from elearn.orgs.models import User
from elearn.policy import SESSIONS

_dummy: list[str] = []  # a hash computed once, checked against when the username does not exist

# -- authentication ---------------------------------------------------------------------------------

def _refused() -> NotAuthenticated:
    """The one answer to an unknown name, a wrong password and a locked account alike, so that nobody can
    tell from it which usernames exist (the lockout is explained in it, for everyone)."""
    minutes = max(1, current_app.config["ELEARN_LOGIN_LOCKOUT_SECONDS"] // 60)
    return NotAuthenticated(_("用户名或密码不正确。连续多次输错后须等待 %(m)d 分钟再试。", m=minutes),
                            "bad_credentials")


def authenticate(username: str, password: str) -> User:
    """Return the user for correct credentials; count failures and lock the account for a while after
    too many (audited). Unknown names, wrong passwords and locked accounts get the same answer, at the same
    cost."""
    cfg = current_app.config
    user = users.by_username(username or "")
    if user is None:
        # Same cost as a real check, so timing does not reveal which usernames exist.
        verify_password(_dummy_hash(), password or "")
        raise _refused()
    now = clock.now_utc()
    if user.locked_until and user.locked_until > now:
        verify_password(_dummy_hash(), password or "")  # a locked account costs what a check costs
        raise _refused()
    light = needs_rehash(user.password_hash)
    if not verify_password(user.password_hash, password or ""):
        if light:
            verify_password(_dummy_hash(), password or "")  # an initial password's refusal costs the same
        audit.record(user, "auth.failure", user)
        user.failed_logins += 1
        if user.failed_logins >= cfg["ELEARN_LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(seconds=cfg["ELEARN_LOGIN_LOCKOUT_SECONDS"])
            user.failed_logins = 0
            audit.record(user, "auth.lockout", user, after={"locked_until": user.locked_until.isoformat()})
        db.session.commit()
        raise _refused()
    if not user.active:
        raise Forbidden(_("该账号已停用。"), "inactive")
    if not sso.password_allowed(user):  # told only after the right password: no hint to a guesser
        raise Forbidden(_("您所在的组织已关闭本地密码登录，请使用下方的统一身份认证登录。"), "password_sign_in_off")
    user.failed_logins = 0
    user.locked_until = None
    if light:  # an imported initial password: from now on under the full profile
        user.password_hash = hash_password(password)
    db.session.commit()
    return user


def _dummy_hash() -> str:
    if not _dummy:
        _dummy.append(hash_password("not-a-real-password-0"))
    return _dummy[0]


def change_password(user: User, current: str, new: str, *, revoke_tokens: bool = False) -> None:
    """Change the user's own password; every other session of the user ends (and, if asked, their API
    tokens are revoked)."""
    if not verify_password(user.password_hash, current or ""):
        raise ServiceError(_("当前密码不正确。"), "bad_current_password")
    if current == new:
        raise ServiceError(_("新密码不能与当前密码相同。"), "same_password")
    set_password(None, user, new, keep_session=user.login_session_id, revoke_tokens=revoke_tokens)


def set_password(actor: User | None, user: User, new: str, *, keep_session: str | None = None,
                 revoke_tokens: bool = False) -> None:
    """Set ``user``'s password (``actor`` an admin resetting it, or None for the user's own change). Every
    login session of the user ends but ``keep_session`` (the browser changing its own password); with
    ``revoke_tokens`` the user's API tokens are revoked too."""
    if actor is not None:
        orgs.require_manage(actor, user.organisation)
    check_policy(new, user.username)
    passwords.check_not_reused(user, new)
    passwords.remember_replaced(user, user.password_hash)
    user.password_hash = hash_password(new)
    audit.record(actor or user, "user.password", user,
                 after={"tokens_revoked": True} if revoke_tokens else None)
    end_sessions(actor or user, user, "password" if actor is None else "reset", keep=keep_session, commit=False)
    if keep_session is not None:  # the browser that changed an expired password may go on
        db.session.execute(update(LoginSession).where(LoginSession.id == keep_session)
                           .values(password_change_required=False))
    if revoke_tokens:
        tokens.revoke_all(user, commit=False)
    db.session.commit()


# -- server-side login sessions ----------------------------------------------------------------------------

def _new_session(user: User, *, ip: str, user_agent: str, remember: bool, now: datetime,
                 signed_in_at: datetime | None = None) -> LoginSession:
    row = LoginSession(id=secrets.token_urlsafe(32), user_id=user.id, created_at=now, last_seen_at=now,
                       ip=ip[:45], user_agent=user_agent[:300], remember=remember,
                       signed_in_at=signed_in_at or now)
    db.session.add(row)
    return row


def start_session(user: User, *, ip: str | None, user_agent: str | None, remember: bool) -> LoginSession:
    """A new login session for ``user`` signing in from this browser; the user object now carries its id (what
    flask-login puts in the cookies). Admins get no remember-me (``row.remember`` says whether it was kept),
    their oldest sessions beyond the limit end, and an expired password marks the session (session_rules)."""
    now = clock.now_utc()
    row = _new_session(user, ip=ip or "", user_agent=user_agent or "",
                       remember=bool(remember) and session_rules.may_remember(user), now=now)
    session_rules.enforce_limit(user, row, now)
    if passwords.is_expired(user) or reset.must_change(user):  # expired, or an admin's temporary password
        session_rules.mark_password_change(row, user)
    # A security event like the failures (kept with the audit log); the address is in the session row, encrypted.
    audit.record(user, "auth.login", user, after={"remember": row.remember})
    db.session.commit()
    user.login_session_id = row.id
    return row


def load_session_user(session_id: str) -> User | None:
    """flask-login's loader, on every request: the user of a login session that has not ended (and whose
    account is active) and that no session rule ends now (idle, lifetime: session_rules); None signs the
    browser out. "Last seen" is written at most every ``SessionPolicy.seen_every_s``."""
    if not isinstance(session_id, str) or not 20 <= len(session_id) <= 64:
        return None
    row = db.session.get(LoginSession, session_id)
    if row is None:
        return None
    if row.ended_at is not None:
        session_rules.signed_out(row.end_reason)
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    now = clock.now_utc()
    reason = session_rules.verdict(user, row, now)
    if reason is not None:
        session_rules.end_for(user, row, reason, now)
        return None
    if row.password_change_required:
        g.password_change_required = True
    if (now - row.last_seen_at).total_seconds() >= SESSIONS.seen_every_s:
        db.session.execute(update(LoginSession).where(LoginSession.id == row.id).values(last_seen_at=now))
        db.session.commit()
    user.login_session_id = row.id
    return user


def rotate_session(user: User) -> LoginSession | None:
    """A browser came back with its remember-me cookie: the session it names ends and a new one takes its place
    (a remember-me token is good for one comeback; a copy used afterwards finds its session ended)."""
    old = db.session.get(LoginSession, user.login_session_id) if user.login_session_id else None
    if old is None or old.ended_at is not None:
        return None
    now = clock.now_utc()
    old.ended_at, old.end_reason = now, "rotated"
    row = _new_session(user, ip=old.ip, user_agent=old.user_agent, remember=True, now=now,
                       signed_in_at=old.signed_in_at)
    row.password_change_required = old.password_change_required
    db.session.commit()
    user.login_session_id = row.id
    return row


def end_session(session_id: str | None, reason: str = "logout") -> None:
    """End one login session (signing out of this browser)."""
    if not session_id:
        return
    db.session.execute(update(LoginSession).where(LoginSession.id == session_id, LoginSession.ended_at.is_(None))
                       .values(ended_at=clock.now_utc(), end_reason=reason))
    db.session.commit()


def end_sessions(actor: User, user: User, reason: str, *, keep: str | None = None, only: str | None = None,
                 commit: bool = True) -> int:
    """End ``user``'s open login sessions (all, all but ``keep``, or only ``only``) at once; audited. Returns
    how many ended. ``actor`` is the user themselves or an admin who manages them."""
    if actor.id != user.id:
        orgs.require_manage(actor, user.organisation)
    stmt = update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
    if keep is not None:
        stmt = stmt.where(LoginSession.id != keep)
    if only is not None:
        stmt = stmt.where(LoginSession.id == only)
    ended = rowcount(db.session.execute(stmt.values(ended_at=clock.now_utc(), end_reason=reason)
                                        .execution_options(synchronize_session=False)))
    if ended:
        audit.record(actor, "auth.sessions_end", user, after={"reason": reason, "sessions": ended})
    if commit:
        db.session.commit()
    return ended


def sessions_of(user: User, limit: int = 20) -> list[LoginSession]:
    """The user's open login sessions, most recently seen first (the signed-in devices)."""
    return list(db.session.execute(select(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .order_by(LoginSession.last_seen_at.desc()).limit(limit)).scalars())
