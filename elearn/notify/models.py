"""In-app notifications (one row per message to a user: the centre and its unread count) and the e-mail outbox
(one row per message to send, so that nothing is lost when the process dies or the SMTP server is down)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from elearn.extensions import PERSONAL, Base
from elearn.security.fields import EncryptedText


class Notification(Base):
    """A message to one user in the notification centre; unread until ``read_at``."""

    __tablename__ = "notification"
    # The centre lists a user's newest first and the top navigation counts the unread ones on every page: both
    # are one range of this index.
    # ``dedupe_key`` (per user, unique) makes a notification of an event at most once: a retried job or a rerun
    # of a reminder finds it there ("series.required:12", "pace:2026-W49", …); NULL for one-off messages.
    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at", "id"),
                      UniqueConstraint("user_id", "dedupe_key", name="uq_notification_user_dedupe"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(40))  # who sent it and why ("auth.password", "course.published", …)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))  # a path inside the site
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    dedupe_key: Mapped[str | None] = mapped_column(String(80))


class OutboxEmail(Base):
    """One e-mail to send. Written in the transaction that causes it, sent by a job (``notify.tasks``); a failed
    attempt waits until ``next_attempt_at`` (growing back-off, policy.MAIL) and the periodic sweep tries again,
    until it is sent or given up. An attempt under way pushes ``next_attempt_at`` ahead as its claim, so two
    workers never send the same message at once. The address and the text (a reset link is a credential for
    half an hour) are stored encrypted; the text is dropped once sent. A message of a notification carries its
    ``dedupe_key``: when its cause is withdrawn (an announcement), the messages not yet sent are too."""

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_email_outbox_due", "status", "next_attempt_at"),
                      Index("ix_email_outbox_dedupe_key", "dedupe_key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(EncryptedText(200, "email_outbox.to_address"), info=PERSONAL)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(EncryptedText(100_000, "email_outbox.body"), info=PERSONAL)
    # pending, sent, failed (given up) or withdrawn (its cause withdrawn before it went)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    dedupe_key: Mapped[str | None] = mapped_column(String(80))  # the notification's, when it is one


class NotificationPreference(Base):
    """A member's choice for one kind (``elearn.notify.kinds``): whether it also reaches them by e-mail. No row:
    the kind's default. The pseudo-kind ``digest`` (on: one e-mail a day instead of one per message)."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "kind", name="uq_notification_preference_user_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(40))
    email: Mapped[bool] = mapped_column(default=False)


class NotificationDigest(Base):
    """The daily digest sent to a member for one site day: the record that makes a rerun send nothing."""

    __tablename__ = "notification_digest"
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_notification_digest_user_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    day: Mapped[date]
    notifications: Mapped[int] = mapped_column(default=0)  # how many it listed
    created_at: Mapped[datetime]


class Announcement(Base):
    """An org admin's announcement to their subtree, optionally narrowed to sectors and member categories
    (comma-separated codes; empty: all). ``body`` is sanitised HTML, rendered from ``body_source`` (the Markdown
    as typed, which the edit form shows again). A withdrawn one (``withdrawn_at``) has lost its notifications:
    ``told_at_withdrawal`` keeps how many members had been told, for its read count."""

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    sectors: Mapped[str] = mapped_column(String(500), default="")
    categories: Mapped[str] = mapped_column(String(300), default="")
    published_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body_source: Mapped[str] = mapped_column(Text, default="")
    edited_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    told_at_withdrawal: Mapped[int | None]


class AnnouncementRead(Base):
    """A member opened an announcement (once per member: the read count is these rows)."""

    __tablename__ = "announcement_read"
    __table_args__ = (UniqueConstraint("announcement_id", "user_id", name="uq_announcement_read"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    read_at: Mapped[datetime]
