"""Audit log of administrative actions: who, what, when, before and after."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, event, func
from sqlalchemy.orm import Mapped, mapped_column

from elearn.extensions import Base


class AuditEntry(Base):
    """One recorded action. Append-only: kept at least ``policy.AUDIT_RETENTION_DAYS`` and never changed or
    deleted by the app (there is no purge; the ORM refuses updates and deletes)."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _audit_is_append_only(_mapper, _connection, target):
    raise ValueError(f"audit_entry {target.id} is append-only")


class SecurityAlert(Base):
    """A security event site admins must look at (repeated sign-in failures, a broken ledger chain): raised
    with the audit entry of one of ``policy.SECURITY_ALERT_ACTIONS``, shown to site admins until one of them
    marks it handled (itself an audit entry)."""

    __tablename__ = "security_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(60))
    audit_entry_id: Mapped[int] = mapped_column(ForeignKey("audit_entry.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    handled_at: Mapped[datetime | None]
    handled_note: Mapped[str | None] = mapped_column(String(300))
