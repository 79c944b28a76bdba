"""Password reset (issue 19), two ways:

- by e-mail, when SMTP is configured: a request for an address always gets the same answer (whether or not an
  account has it, so nobody learns which addresses are registered); an active account with that address gets
  a link carrying a random token, of which only the SHA-256 is stored. The link is good once, for
  ``policy.RESET.link_minutes``; a later request voids it, and so does any change of the password (the token
  is bound to a fingerprint of the password hash it was issued under). The new password passes the password
  rules, and every session and API token of the user ends, as with a change of one's own password.
- by an org admin (for the users of their subtree) or a site admin: a temporary password, shown to the admin
  once, that the user must change at their first sign-in before anything else (the session is marked as for an
  expired password: elearn.auth.session_rules).

Every step is audited. The two tables are declared here, beside the only code that reads and writes them."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from elearn import clock
from elearn.access import Role
from elearn.audit import services as audit
from elearn.auth import passwords, tasks
from elearn.auth import services as auth
from elearn.errors import Forbidden, ServiceError
from elearn.extensions import Base, db, rowcount
from elearn.notify import mail
from elearn.notify import services as notify
from elearn.orgs import contacts
from elearn.orgs import services as orgs
from elearn.orgs.models import User
from elearn.policy import RESET
from elearn.security import fields as pii


class PasswordResetToken(Base):
    """A reset link sent by e-mail: only the SHA-256 of its token is stored. Valid while unused, unexpired and
    issued under the user's current password (``password_fingerprint``)."""

    __tablename__ = "password_reset_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    password_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # Used, or voided by a later request: either way it opens nothing any more.
    used_at: Mapped[datetime | None]


class TemporaryPassword(Base):
    """An admin set a temporary password for the user: while the user's password is still that one (its hash's
    fingerprint; None while being set), every sign-in must change it first."""

    __tablename__ = "temporary_password"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    set_at: Mapped[datetime]
    password_fingerprint: Mapped[str | None] = mapped_column(String(64))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _fingerprint(user: User) -> str:
    return _digest("password:" + user.password_hash)


def by_email_available() -> bool:
    """Whether members reset their password by e-mail (SMTP configured); else they ask an org admin."""
    return mail.configured()


def _invalid_link() -> ServiceError:
    return ServiceError(_("重置链接无效或已过期，请重新申请。"), "reset_link_invalid")


# -- by e-mail ----------------------------------------------------------------------------------------------

def request_by_email(address: str) -> None:
    """Ask for a reset link for ``address``: every active account with it gets one by e-mail, an unknown address
    nothing. The caller gives the same answer either way, and the request costs the same either way: it only
    enqueues ``tasks.send_reset_links`` with the address's keyed hashes (never the address itself), whose job
    looks the accounts up and writes the e-mails."""
    if not by_email_available():
        raise ServiceError(_("本站未开通邮件找回密码，请联系所在组织的管理员重置密码。"), "reset_by_admin")
    try:
        hashes = pii.lookup_hashes(contacts.email(address or ""))
    except ServiceError:
        hashes = []  # not an address: nobody has it, and it is answered as any other
    # The link's address is fixed here, where the request is: ELEARN_BASE_URL, else this request's own.
    link_base = mail.absolute(url_for("auth.reset_password", token="-"))[:-1]
    tasks.send_reset_links.enqueue(hashes, link_base, str(get_locale() or "zh"))


def send_links(address_hashes: list[str], link_base: str, locale: str) -> int:
    """The job of a reset request (``tasks.send_reset_links``): a new link for every active account whose e-mail
    has one of ``address_hashes`` (an earlier link of theirs is voided), sent through the outbox; audited.
    Returns how many were sent."""
    if not address_hashes:
        return 0
    users = list(db.session.execute(select(User).where(User.email_hash.in_(address_hashes), User.active.is_(True))
                                    .order_by(User.id)).scalars())
    now = clock.now_utc()
    for user in users:
        token = secrets.token_urlsafe(32)
        # A later request voids the earlier links: only the newest e-mail works.
        db.session.execute(update(PasswordResetToken).where(PasswordResetToken.user_id == user.id,
                                                            PasswordResetToken.used_at.is_(None))
                           .values(used_at=now).execution_options(synchronize_session=False))
        db.session.add(PasswordResetToken(user_id=user.id, token_hash=_digest(token),
                                          password_fingerprint=_fingerprint(user), created_at=now,
                                          expires_at=now + timedelta(minutes=RESET.link_minutes)))
        audit.record(user, "auth.reset.request", user)
        with force_locale(locale):
            subject = _("重置密码")
            body = _("%(name)s，您好：\n\n有人（希望是您本人）申请重置您在党员在线课堂的账号 %(username)s 的密码。"
                     "请在 %(m)d 分钟内打开下面的链接设置新密码，链接只能使用一次：\n\n%(link)s\n\n"
                     "如果不是您本人申请，请忽略本邮件，您的密码不会改变。",
                     name=user.name, username=user.username, m=RESET.link_minutes, link=link_base + token)
        notify.send_mail(user.email or "", subject, body)  # commits the token and its audit entry with it
    return len(users)


def user_for_token(token: str) -> User:
    """The user whose valid reset link carries ``token`` (for showing the new-password form).

    Raises:
        ServiceError ``reset_link_invalid``: unknown, used, voided, expired, or issued before a password change.
    """
    row = _valid_row(token)
    return db.session.get_one(User, row.user_id)


def _valid_row(token: str) -> PasswordResetToken:
    if not token or len(token) > 100:
        raise _invalid_link()
    row = db.session.execute(select(PasswordResetToken).where(PasswordResetToken.token_hash == _digest(token))
                             ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= clock.now_utc():
        raise _invalid_link()
    user = db.session.get(User, row.user_id)
    if user is None or not user.active or row.password_fingerprint != _fingerprint(user):
        raise _invalid_link()
    return row


def complete_by_email(token: str, new_password: str) -> User:
    """Set the password of the link's user to ``new_password`` (the password rules apply) and use the link up;
    every login session and API token of the user ends; a lockout for failed sign-ins is lifted. Audited.

    Raises:
        ServiceError ``reset_link_invalid``: see :func:`user_for_token` (also for the second of two requests
        with the same link at once); ``weak_password`` / ``reused_password``: the link stays usable.
    """
    row = _valid_row(token)
    user = db.session.get_one(User, row.user_id)
    # The link is taken in the statement that checks it is still unused: of two uses at once, one wins.
    taken = rowcount(db.session.execute(update(PasswordResetToken).where(
        PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=clock.now_utc()).execution_options(synchronize_session=False)))
    if not taken:
        db.session.rollback()
        raise _invalid_link()
    user.failed_logins, user.locked_until = 0, None
    audit.record(user, "auth.reset.done", user)
    try:
        auth.set_password(None, user, new_password, revoke_tokens=True)  # committed with the above
    except ServiceError:
        db.session.rollback()  # a password the rules refuse: the link stays usable
        raise
    return user


# -- by an admin ----------------------------------------------------------------------------------------------

def may_set_temporary(actor: User, user: User) -> bool:
    """A site admin sets anyone's temporary password; an org admin those of the users of their subtree, but not
    of a site admin nor of an admin of their own organisation; nobody their own (they change it)."""
    if not actor.is_authenticated or not actor.active or actor.id == user.id:
        return False
    if actor.role == Role.SITE_ADMIN:
        return True
    if actor.role != Role.ORG_ADMIN or not orgs.can_manage(actor, user.organisation):
        return False
    if user.role == Role.SITE_ADMIN:
        return False
    return user.role != Role.ORG_ADMIN or user.organisation_id != actor.organisation_id


def set_temporary(actor: User, user: User) -> str:
    """Give ``user`` a generated temporary password (returned, to be shown once to ``actor``): their sessions
    end, a lockout is lifted, and their next sign-in must change it before anything else. Audited.

    Raises:
        Forbidden: outside ``actor``'s scope (see :func:`may_set_temporary`).
    """
    if not may_set_temporary(actor, user):
        raise Forbidden(_("您无权为该用户设置临时密码。"), "forbidden")
    temporary = passwords.generate_password()
    row = db.session.get(TemporaryPassword, user.id)
    if row is None:
        row = TemporaryPassword(user_id=user.id, set_at=clock.now_utc())
        db.session.add(row)
    # Until the fingerprint is filled in below, the mark holds whatever the password: a crash in between
    # errs on the side of asking for a change.
    row.set_by_id, row.set_at, row.password_fingerprint = actor.id, clock.now_utc(), None
    user.failed_logins, user.locked_until = 0, None
    audit.record(actor, "auth.password.temporary", user)
    auth.set_password(actor, user, temporary)  # the rules, the history, every session ended; committed
    row.password_fingerprint = _fingerprint(user)
    db.session.commit()
    return temporary


def must_change(user: User) -> bool:
    """``user`` still signs in with a temporary password an admin set."""
    row = db.session.get(TemporaryPassword, user.id)
    return row is not None and row.password_fingerprint in (None, _fingerprint(user))
