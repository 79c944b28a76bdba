"""Session rules (等保 2.0 level 3, 身份鉴别 and 访问控制; numbers in ``policy.SessionPolicy``): an idle timeout and an
absolute lifetime for every server-side login session, a limit on the sessions an admin holds at once, no
remember-me for admins, and the notice a browser signed out by one of these rules sees on its next request.
An expired password (``policy.PasswordPolicy.max_age_days``) marks the session so that nothing but changing it
is allowed.

Checked in :func:`elearn.auth.services.load_session_user` on every request from the row it reads anyway: no
extra query, and "last seen" is written at most every ``seen_every_s``."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, flash, g, has_request_context, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select, update

from elearn.access import ADMINS
from elearn.audit import services as audit
from elearn.auth.models import LoginSession
from elearn.extensions import db, rowcount
from elearn.http.errors import json_error
from elearn.orgs.models import User
from elearn.policy import SESSIONS


def is_admin(user: User) -> bool:
    """Org and site admins: the strict rules (short idle timeout and lifetime, a session limit, no remember-me)."""
    return user.role in ADMINS


def may_remember(user: User) -> bool:
    """Whether "remember me" is honoured for ``user``: for members only, never for admins."""
    return not is_admin(user)


def _remember_lifetime() -> timedelta:
    return timedelta(seconds=int(current_app.config["REMEMBER_COOKIE_DURATION"]))


def idle_limit(user: User, row: LoginSession) -> timedelta:
    """How long ``row`` may go unused before it ends."""
    if is_admin(user):
        return timedelta(minutes=SESSIONS.admin_idle_minutes)
    if row.remember:
        # A remembered browser is meant to come back days later: only its lifetime bounds it.
        return _remember_lifetime()
    configured = current_app.config.get("ELEARN_MEMBER_IDLE_MINUTES")
    return timedelta(minutes=int(configured) if configured else SESSIONS.member_idle_minutes)


def lifetime(user: User, row: LoginSession) -> timedelta:
    """How long ``row`` lasts from the sign-in, whatever the activity."""
    if is_admin(user):
        return timedelta(hours=SESSIONS.admin_lifetime_hours)
    if row.remember:
        return _remember_lifetime()
    return timedelta(hours=SESSIONS.member_lifetime_hours)


def verdict(user: User, row: LoginSession, now: datetime) -> str | None:
    """Why ``row`` must end now ("expired" or "idle", as in ``policy.SESSION_END_REASONS``), or None."""
    if now - row.signed_in_at >= lifetime(user, row):
        return "expired"
    if now - row.last_seen_at >= idle_limit(user, row):
        return "idle"
    return None


def end_for(user: User, row: LoginSession, reason: str, now: datetime) -> None:
    """End ``row`` because a rule says so (audited as a security event) and tell the browser; committed."""
    ended = rowcount(db.session.execute(
        update(LoginSession).where(LoginSession.id == row.id, LoginSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason).execution_options(synchronize_session=False)))
    if ended:  # two requests of the same browser at once: only one ends it and writes the audit entry
        audit.record(user, "auth.session_timeout", user, after={"reason": reason})
    db.session.commit()
    signed_out(reason)


def enforce_limit(user: User, keep: LoginSession, now: datetime) -> int:
    """After ``keep`` was added for an admin: end the oldest open sessions beyond ``admin_max_sessions``
    (audited; each ended browser is told on its next request). Returns how many ended. Not committed here."""
    if not is_admin(user) or SESSIONS.admin_max_sessions <= 0:
        return 0
    db.session.flush()
    open_ids = db.session.execute(select(LoginSession.id).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None), LoginSession.id != keep.id)
        .order_by(LoginSession.created_at.desc(), LoginSession.id)).scalars().all()
    beyond = list(open_ids[SESSIONS.admin_max_sessions - 1:])
    if not beyond:
        return 0
    db.session.execute(update(LoginSession).where(LoginSession.id.in_(beyond))
                       .values(ended_at=now, end_reason="limit").execution_options(synchronize_session=False))
    audit.record(user, "auth.sessions_end", user, after={"reason": "limit", "sessions": len(beyond)})
    return len(beyond)


def _notices() -> dict[str, str]:
    return {
        "idle": _("长时间未操作，已自动退出，请重新登录。"),
        "expired": _("登录已超过有效期，已自动退出，请重新登录。"),
        "limit": _("您的账号已在其他设备登录，超过了同时登录的设备数，本设备已退出，请重新登录。"),
    }


def signed_out(reason: str | None) -> None:
    """A request came with a session a rule ended: say why, once, and forget the session in the cookies (the
    remember-me cookie too), so the following requests are plainly signed out."""
    notice = _notices().get(reason or "")
    if notice is None or not has_request_context():
        return
    if not g.get("session_notice_given"):
        # flask-login may ask twice in one request (the session cookie, then the remember-me cookie).
        g.session_notice_given = True
        flash(notice, "error")
    session.pop("_user_id", None)
    session["_remember"] = "clear"  # flask-login deletes the remember-me cookie on the way out


def mark_password_change(row: LoginSession, user: User) -> None:
    """The user's password has expired: this session may do nothing but change it (audited)."""
    row.password_change_required = True
    audit.record(user, "auth.password_expired", user)


# Endpoints a session with an expired password may still reach.
_OPEN_WHILE_EXPIRED = frozenset({"auth.change_password", "auth.logout", "auth.set_locale", "static"})


def password_change_gate() -> ResponseReturnValue | None:
    """Before every request: a session whose password expired is sent to the password page (JSON: 403)."""
    # The second factor's steps come first (their own gate holds a user who must enrol): never a redirect loop.
    if request.endpoint in _OPEN_WHILE_EXPIRED or request.endpoint is None or request.blueprint == "two_factor":
        return None
    if not current_user.is_authenticated or not g.get("password_change_required"):
        return None
    if request.path.startswith("/api/"):
        return json_error(403, "password_expired", _("密码已过期，请先修改密码。"))
    return redirect(url_for("auth.change_password"))
