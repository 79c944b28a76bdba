"""Recording administrative actions. Callers add the entry in their own transaction, before they commit."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Row, func, or_, select

from elearn import clock
from elearn.access import Role
from elearn.audit.models import AuditEntry, SecurityAlert
from elearn.errors import Conflict, Forbidden, NotFound
from elearn.extensions import db, personal_fields
from elearn.orgs.models import Organisation, User
from elearn.policy import SECURITY_ALERT_ACTIONS
from elearn.security import fields as pii
from elearn.security import masking


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    """Plain values of ``fields`` of ``obj`` for the before/after columns; personal ones masked (``138****1234``),
    as the log is kept in the clear and read by admins of other subtrees (elearn.security)."""
    columns = obj.__table__.c
    out = {}
    for name in fields:
        value = getattr(obj, name)
        info = columns[name].info if name in columns else {}
        if info.get("personal") and info.get("encrypted", True):
            value = masking.mask(name, value)
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
    if action in SECURITY_ALERT_ACTIONS:
        db.session.flush()
        db.session.add(SecurityAlert(action=action, audit_entry_id=entry.id))
    return entry


def open_alerts(limit: int = 50) -> list[tuple[SecurityAlert, AuditEntry]]:
    """Security alerts no site admin has handled yet, newest first, with their audit entries."""
    rows = db.session.execute(
        select(SecurityAlert, AuditEntry).join(AuditEntry, AuditEntry.id == SecurityAlert.audit_entry_id)
        .where(SecurityAlert.handled_at.is_(None)).order_by(SecurityAlert.id.desc()).limit(limit)).tuples().all()
    return list(rows)


def open_alert_count() -> int:
    return int(db.session.execute(select(func.count()).select_from(SecurityAlert)
                                  .where(SecurityAlert.handled_at.is_(None))).scalar_one())


def handle_alert(actor: User, alert_id: int, note: str) -> SecurityAlert:
    """Mark an alert handled (site admins only), with what was done about it; audited.

    Raises:
        Forbidden: ``actor`` is not a site admin.
        NotFound: no such alert.
        Conflict: already handled.
    """
    if actor.role != Role.SITE_ADMIN:
        raise Forbidden(_("只有系统管理员可以处理安全告警。"), "forbidden")
    alert = db.session.execute(select(SecurityAlert).where(SecurityAlert.id == alert_id)
                               .with_for_update()).scalar_one_or_none()
    if alert is None:
        raise NotFound(_("没有这条安全告警。"), "not_found")
    if alert.handled_at is not None:
        raise Conflict(_("这条告警已经处理过了。"), "already_handled")
    alert.handled_by_id, alert.handled_at = actor.id, clock.now_utc().replace(tzinfo=None)
    alert.handled_note = (note or "").strip()[:300] or None
    record(actor, "security.alert.ack", alert, after={"action": alert.action, "note": alert.handled_note})
    db.session.commit()
    return alert


@dataclass(frozen=True)
class AuditQuery:
    """What an admin looks for in the audit log: an action (exact, or a prefix ending in "."), the acting
    person (name or username contains), and a range of days in the site's time zone."""

    action: str = ""
    who: str = ""
    since: date | None = None
    until: date | None = None


def _utc(day: date) -> datetime:
    """Midnight of ``day`` in the site's time zone, as the naive UTC the log's times are stored in."""
    return clock.site_day_bounds(day)[0]


def search(actor: User, query: AuditQuery, *, offset: int = 0, limit: int = 50) -> Sequence[Row[Any]]:
    """Entries ``actor`` may see, newest first, as (entry, actor name, actor username) rows (the names None for
    entries without an actor): site admins see all, org admins the actions of actors whose home is in their
    subtree."""
    stmt = (select(AuditEntry, User.name, User.username).outerjoin(User, User.id == AuditEntry.actor_id)
            .order_by(AuditEntry.id.desc()))
    if actor.role != Role.SITE_ADMIN:
        in_tree = select(Organisation.id).where(
            Organisation.path.startswith(actor.organisation.path, autoescape=True))
        stmt = stmt.where(AuditEntry.actor_id.in_(select(User.id).where(User.organisation_id.in_(in_tree))))
    if query.action:
        stmt = stmt.where(AuditEntry.action.startswith(query.action, autoescape=True)
                          if query.action.endswith(".") else AuditEntry.action == query.action)
    if query.who.strip():
        who = query.who.strip()
        # Names are encrypted: one matches as the whole name, through its keyed hash.
        stmt = stmt.where(or_(User.name_hash.in_(pii.lookup_hashes(who)), User.username.contains(who, autoescape=True)))
    # Days at the ends of the calendar mean "no bound" (their midnights do not convert).
    if query.since and query.since > date.min:
        stmt = stmt.where(AuditEntry.at >= _utc(query.since))
    if query.until and query.until < date.max - timedelta(days=1):
        stmt = stmt.where(AuditEntry.at < _utc(query.until + timedelta(days=1)))
    return db.session.execute(stmt.offset(offset).limit(limit)).all()


def changes(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """(field, before, after) for the entry's fields, values as readable text; when there is a before and an
    after, only the fields that changed."""
    before, after = entry.before or {}, entry.after or {}

    def text(value) -> str:
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    both = bool(before) and bool(after)
    return [(k, text(before.get(k)), text(after.get(k))) for k in dict.fromkeys([*before, *after])
            if not (both and before.get(k) == after.get(k))]


__all__ = ["AuditQuery", "changes", "personal_fields", "record", "search", "snapshot"]
