"""Notifications and e-mail: :func:`notify` is the one way to tell a user something (in the centre, and by
e-mail when asked and possible), :func:`send_mail` the one way to send an e-mail (through the outbox).
Every write of the domain is here; the jobs call :func:`deliver` and :func:`deliver_due`."""
from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, func, select, update

from elearn import clock
from elearn.errors import NotFound
from elearn.extensions import db, rowcount
from elearn.notify import mail, tasks
from elearn.notify.models import Notification, OutboxEmail
from elearn.orgs.models import User
from elearn.policy import MAIL

log = logging.getLogger(__name__)

TITLE_MAX = 200
SUBJECT_MAX = 300


# -- the notification centre ---------------------------------------------------------------------------------

def notify(user: User, kind: str, title: str, body: str = "", link: str | None = None, *,
           email: bool = False) -> Notification:
    """Tell ``user`` something: a row in their notification centre and, with ``email`` (and SMTP configured and
    an address on file), the same text by e-mail through the outbox; committed with whatever the caller added
    to the session. ``link``: a path inside the site."""
    row = Notification(user_id=user.id, kind=kind[:40], title=title[:TITLE_MAX], body=body, link=link,
                       created_at=clock.now_utc())
    db.session.add(row)
    if email and mail.configured() and user.email:
        send_mail(user.email, title, body + (f"\n\n{mail.absolute(link)}" if link else ""))
    else:
        db.session.commit()
    return row


def unread_count(user: User) -> int:
    """How many of ``user``'s notifications are unread (the badge in the top navigation)."""
    return int(db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))).scalar_one())


def list_stmt(user: User, *, unread_only: bool = False) -> Select:
    """``user``'s notifications, newest first (a select to page through)."""
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt.order_by(Notification.id.desc())


def own(user: User, notification_id: int) -> Notification:
    """``user``'s notification ``notification_id``; NotFound for another's (whose existence is not confirmed)."""
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != user.id:
        raise NotFound(_("没有这条通知。"), "not_found")
    return row


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of ``user``'s notifications read (again: no change)."""
    row = own(user, notification_id)
    if row.read_at is None:
        row.read_at = clock.now_utc()
        db.session.commit()
    return row


def mark_all_read(user: User) -> int:
    """Mark every unread notification of ``user`` read; returns how many."""
    n = rowcount(db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(read_at=clock.now_utc())
        .execution_options(synchronize_session=False)))
    db.session.commit()
    return n


# -- e-mail through the outbox ------------------------------------------------------------------------------

def send_mail(to: str, subject: str, body: str) -> OutboxEmail:
    """Queue an e-mail: its outbox row is committed (in one transaction with whatever the caller added to the
    session before, so a reset token and its e-mail exist together or not at all), then the delivery job is
    enqueued. Should the job be lost, or SMTP be down, the periodic sweep sends the row later."""
    now = clock.now_utc()
    row = OutboxEmail(to_address=to.strip(), subject=" ".join(subject.split())[:SUBJECT_MAX], body=body,
                      status="pending", attempts=0, next_attempt_at=now, created_at=now)
    db.session.add(row)
    db.session.commit()
    tasks.deliver_email.enqueue(row.id)
    return row


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=MAIL.retry_delay_s * MAIL.retry_backoff ** max(attempts - 1, 0))


def _claim(outbox_id: int) -> OutboxEmail | None:
    """Take ``outbox_id`` for one attempt if it is pending and due: its ``next_attempt_at`` moves ahead by the
    claim time in the same statement, so a second worker (the job and the sweep at once) finds it not due."""
    now = clock.now_utc()
    claimed = rowcount(db.session.execute(
        update(OutboxEmail).where(OutboxEmail.id == outbox_id, OutboxEmail.status == "pending",
                                  OutboxEmail.next_attempt_at <= now)
        .values(next_attempt_at=now + timedelta(seconds=MAIL.claim_seconds))
        .execution_options(synchronize_session=False)))
    db.session.commit()
    return db.session.get(OutboxEmail, outbox_id) if claimed else None


def deliver(outbox_id: int) -> str:
    """One attempt at sending ``outbox_id`` (the delivery job). Returns what became of it: "sent", "retry"
    (failed; tried again after the back-off), "failed" (given up after ``MAIL.max_attempts``), or "skipped"
    (already sent, given up, not due, or held by another attempt)."""
    row = _claim(outbox_id)
    if row is None:
        return "skipped"
    try:
        mail.send(mail.build_message(row.to_address, row.subject, row.body or "",
                                     message_id=f"<outbox-{row.id}@elearn>"))
    except (OSError, smtplib.SMTPException, mail.MailConfigError) as exc:
        row.attempts += 1
        row.last_error = f"{type(exc).__name__}: {exc}"[:500]
        if row.attempts >= MAIL.max_attempts:
            row.status = "failed"
        else:
            row.next_attempt_at = clock.now_utc() + _backoff(row.attempts)
        db.session.commit()
        # The message id only: the address is personal data and stays out of the logs.
        log.warning("e-mail %s not sent (attempt %d): %s", row.id, row.attempts, type(exc).__name__)
        return row.status if row.status == "failed" else "retry"
    row.attempts += 1
    row.status, row.sent_at, row.body, row.last_error = "sent", clock.now_utc(), None, None
    db.session.commit()
    return "sent"


def deliver_due(limit: int = MAIL.sweep_batch) -> dict[str, int]:
    """Try every pending message that is due (the periodic sweep: retries after the back-off, and messages
    whose job was lost); returns how many ended in each outcome."""
    if not mail.configured():
        return {}
    due = db.session.execute(select(OutboxEmail.id).where(
        OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= clock.now_utc())
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id).limit(limit)).scalars().all()
    outcomes: dict[str, int] = {}
    for outbox_id in due:
        outcome = deliver(outbox_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def outbox_counts() -> dict[str, int]:
    """Messages in the outbox by status (for the command line and the admins)."""
    rows = db.session.execute(select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).tuples()
    return dict(rows.all())
