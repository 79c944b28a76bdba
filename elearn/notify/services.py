"""Notifications and e-mail: :func:`notify` is the one way to tell a user something (in the centre, and by
e-mail when asked and possible), :func:`send_mail` the one way to send an e-mail (through the outbox).
Every write of the domain is here; the jobs call :func:`deliver` and :func:`deliver_due`."""
from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, func, select, update

from elearn import clock
from elearn.errors import NotFound, ServiceError
from elearn.extensions import db, rowcount
from elearn.notify import kinds, mail, tasks
from elearn.notify.audience import Message
from elearn.notify.models import Notification, NotificationPreference, OutboxEmail
from elearn.orgs.models import User
from elearn.policy import MAIL, NOTIFY

log = logging.getLogger(__name__)

TITLE_MAX = 200
SUBJECT_MAX = 300


# -- the notification centre ---------------------------------------------------------------------------------

def notify(user: User, kind: str, title: str, body: str = "", link: str | None = None, *,
           email: bool | None = None, dedupe_key: str | None = None, commit: bool = True) -> Notification | None:
    """Tell ``user`` something: a row in their notification centre and, unless ``email`` is False, by e-mail
    through the outbox when the member's choice for ``kind`` (:mod:`elearn.notify.kinds`: their preference,
    else ``email`` if given, else the kind's default) says so, SMTP is configured, they have an address and
    no daily digest instead. ``link``: a path inside the site. ``dedupe_key``: the event, told to a user at
    most once (None when already told, nothing written).

    Committed with whatever the caller added to the session; with ``commit=False`` added to the caller's
    transaction and committed by the caller (its e-mail then goes with the outbox's minute sweep)."""
    if dedupe_key is not None and _already_told(user.id, dedupe_key):
        return None
    prefs = preferences_of([user.id]) if email is not False else {}
    row, queued = _tell(user, kind, title, body, link, dedupe_key, prefs, email)
    if commit:
        db.session.commit()
        for outbox in queued:
            tasks.deliver_email.enqueue(outbox.id)
    return row


def _already_told(user_id: int, dedupe_key: str) -> bool:
    return db.session.execute(select(Notification.id).where(
        Notification.user_id == user_id, Notification.dedupe_key == dedupe_key)).first() is not None


def _tell(user: User, kind: str, title: str, body: str, link: str | None, dedupe_key: str | None,
          prefs: dict[tuple[int, str], bool], email: bool | None) -> tuple[Notification, list[OutboxEmail]]:
    """Add the notification (and its outbox row when it goes by e-mail) to the session; flushed, not committed.
    ``email``: False never, True unless the member said no, None as the member chose or the kind's default."""
    row = Notification(user_id=user.id, kind=kind[:40], title=title[:TITLE_MAX], body=body, link=link,
                       created_at=clock.now_utc(), dedupe_key=dedupe_key)
    db.session.add(row)
    queued = []
    if email is not False and mail.configured() and user.email and wants_email(prefs, user.id, kind, email):
        queued.append(_queue_mail(user.email, title, body + (f"\n\n{mail.absolute(link)}" if link else ""),
                                  dedupe_key))
    db.session.flush()
    return row, queued


# -- preferences ---------------------------------------------------------------------------------------------

def preferences_of(user_ids: Sequence[int]) -> dict[tuple[int, str], bool]:
    """The stored choices of these users: (user id, kind) → e-mail on."""
    if not user_ids:
        return {}
    rows = db.session.execute(select(NotificationPreference.user_id, NotificationPreference.kind,
                                     NotificationPreference.email)
                              .where(NotificationPreference.user_id.in_(list(user_ids)))).tuples()
    return {(uid, kind_): bool(on) for uid, kind_, on in rows}


def wants_email(prefs: dict[tuple[int, str], bool], user_id: int, kind: str, default: bool | None = None) -> bool:
    """One e-mail per message of ``kind`` for this user: their choice, else ``default`` (None: the kind's
    default), and never while they take the daily digest instead."""
    if prefs.get((user_id, kinds.DIGEST), False):
        return False
    return prefs.get((user_id, kind), kinds.email_default(kind) if default is None else default)


def my_preferences(user: User) -> dict[str, bool]:
    """Every kind's e-mail choice of ``user`` (defaults filled in), and ``digest``."""
    stored = preferences_of([user.id])
    out = {code: stored.get((user.id, code), k.email_default) for code, k in kinds.KINDS.items()}
    out[kinds.DIGEST] = stored.get((user.id, kinds.DIGEST), False)
    return out


def set_preferences(user: User, choices: dict[str, bool]) -> dict[str, bool]:
    """Store ``user``'s e-mail choices (kind code or ``digest`` → on); an unknown code changes nothing."""
    unknown = sorted(c for c in choices if c != kinds.DIGEST and not kinds.is_kind(c))
    if unknown:
        raise ServiceError(_("未知的通知类型：%(k)s", k=", ".join(unknown)[:200]), "bad_kind")
    existing = {p.kind: p for p in db.session.execute(select(NotificationPreference).where(
        NotificationPreference.user_id == user.id)).scalars()}
    for code, on in choices.items():
        row = existing.get(code)
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, kind=code, email=bool(on)))
        else:
            row.email = bool(on)
    db.session.commit()
    return my_preferences(user)


# -- fan-out to many members, in batches ----------------------------------------------------------------------

def fan_out_batch(message: Message, batch: int | None = None) -> int:
    """Tell the next ``batch`` members of the audience who have not been told (one transaction; the outbox
    rows of those who take e-mail are enqueued after it). Returns how many were told: fewer than ``batch``
    means the audience is done. A rerun after a crash goes on where the last committed batch ended."""
    told = select(Notification.user_id).where(Notification.dedupe_key == message.key)
    ids = list(db.session.execute(message.audience.where(User.id.not_in(told))
                                  .limit(batch or NOTIFY.fanout_batch)).scalars())
    if not ids:
        return 0
    users = db.session.execute(select(User).where(User.id.in_(ids)).order_by(User.id)).scalars().all()
    prefs = preferences_of(ids)
    queued: list[OutboxEmail] = []
    for user in users:
        queued += _tell(user, message.kind, message.title, message.body, message.link, message.key, prefs,
                        None)[1]
    db.session.commit()
    for outbox in queued:
        tasks.deliver_email.enqueue(outbox.id)
    return len(ids)


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
    row = _queue_mail(to, subject, body)
    db.session.commit()
    tasks.deliver_email.enqueue(row.id)
    return row


def _queue_mail(to: str, subject: str, body: str, dedupe_key: str | None = None) -> OutboxEmail:
    """An outbox row added to the session (flushed for its id), due now."""
    now = clock.now_utc()
    row = OutboxEmail(to_address=to.strip(), subject=" ".join(subject.split())[:SUBJECT_MAX], body=body,
                      status="pending", attempts=0, next_attempt_at=now, created_at=now, dedupe_key=dedupe_key)
    db.session.add(row)
    db.session.flush()
    return row


def withdraw_mail(dedupe_key: str) -> int:
    """The e-mails of notifications ``dedupe_key`` not yet sent will not be: withdrawn, their text dropped, in
    the caller's transaction. One whose attempt is under way goes or fails as it will. Returns how many."""
    return rowcount(db.session.execute(
        update(OutboxEmail).where(OutboxEmail.dedupe_key == dedupe_key, OutboxEmail.status == "pending")
        .values(status="withdrawn", body=None).execution_options(synchronize_session=False)))


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
