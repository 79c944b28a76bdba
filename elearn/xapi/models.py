"""The xAPI outbox: every learning record as the statement it is, written in the transaction of its event.

The statement (its id a UUID fixed at creation) is stored whole, so a resend is the same statement and an LRS
that already holds it stores nothing new; the outbox is also the record that ``elearn xapi export`` reads when
no LRS is configured.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from elearn.extensions import PERSONAL, Base

# The life of an outbox row: waiting to be sent (again, after a back-off), stored by the LRS, or refused by it
# for its content (4xx: sending it again would not change the answer; an admin looks at ``last_error``).
PENDING = "pending"
SENT = "sent"
FAILED = "failed"
STATUSES = (PENDING, SENT, FAILED)


class XapiStatement(Base):
    """One xAPI statement in the outbox."""

    __tablename__ = "xapi_statement"
    __table_args__ = (
        # The flush job's query: the due pending statements, oldest first.
        Index("ix_xapi_statement_due", "status", "next_attempt_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    verb: Mapped[str] = mapped_column(String(20))
    # The statement as sent: the actor is the member's configured identifier (an account id or a mailbox
    # hash), never a name or address in the clear.
    statement: Mapped[dict[str, Any]] = mapped_column(JSON, info={
        **PERSONAL, "encrypted": False,
        "why": "pseudonymous: the member's id or the SHA-1 of their mailbox (xAPI's identifiers), never a name "
               "or an address; the LRS receives and an export writes it as stored"})
    # When the event happened (the statement's timestamp, UTC): the export's period is on this.
    created_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
