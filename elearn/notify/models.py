"""In-app notifications (one row per message to a user: the centre and its unread count) and the e-mail outbox
(one row per message to send, so that nothing is lost when the process dies or the SMTP server is down)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from elearn.extensions import PERSONAL, Base
from elearn.security.fields import EncryptedText


class Notification(Base):
    """A message to one user in the notification centre; unread until ``read_at``."""

    __tablename__ = "notification"
    # The centre lists a user's newest first and the top navigation counts the unread ones on every page: both
    # are one range of this index.
    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(40))  # who sent it and why ("auth.password", "course.published", …)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))  # a path inside the site
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class OutboxEmail(Base):
    """One e-mail to send. Written in the transaction that causes it, sent by a job (``notify.tasks``); a failed
    attempt waits until ``next_attempt_at`` (growing back-off, policy.MAIL) and the periodic sweep tries again,
    until it is sent or given up. An attempt under way pushes ``next_attempt_at`` ahead as its claim, so two
    workers never send the same message at once. The address and the text (a reset link is a credential for
    half an hour) are stored encrypted; the text is dropped once sent."""

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_email_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(EncryptedText(200, "email_outbox.to_address"), info=PERSONAL)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(EncryptedText(100_000, "email_outbox.body"), info=PERSONAL)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, sent or failed (given up)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
