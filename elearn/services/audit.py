"""Recording administrative actions. Callers add the entry in their own transaction, before they commit."""
from __future__ import annotations

from typing import Any

from elearn.extensions import db
from elearn.models import AuditEntry, User, personal_fields


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    """Plain values of ``fields`` of ``obj`` for the before/after columns."""
    out = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def record(actor: User | None, action: str, obj: Any, before: dict | None = None,
           after: dict | None = None) -> AuditEntry:
    """Add an audit entry for ``action`` on ``obj`` to the session (not committed here)."""
    secret = {"password_hash"}
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=obj.__tablename__,
        object_id=getattr(obj, "id", None),
        before={k: v for k, v in (before or {}).items() if k not in secret} or None,
        after={k: v for k, v in (after or {}).items() if k not in secret} or None,
    )
    db.session.add(entry)
    return entry


__all__ = ["record", "snapshot", "personal_fields"]
