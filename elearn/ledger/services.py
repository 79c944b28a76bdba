"""The study-hours ledger (学时台账): append-only credits, one per credited thing per member.

:func:`credit` inserts with ``ON CONFLICT DO NOTHING`` on the unique ``(user_id, source_kind, source_id)``, so
two workers completing the same lesson at once produce one row and neither fails. Callers commit. A row that
was really inserted also updates the analytics summaries (elearn.ledger.models.apply_credit_to_summaries) in
the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from elearn import clock
from elearn.audit import services as audit
from elearn.errors import Forbidden, NotFound, ServiceError
from elearn.extensions import db, dialect_insert
from elearn.ledger import certificates, chain
from elearn.ledger.models import MemberCourseProgress, StudyCredit, apply_credit_to_summaries
from elearn.orgs import services as orgs
from elearn.orgs.models import User
from elearn.points import awards as points
from elearn.policy import CONTENT_CATEGORIES, CREDIT_KINDS, POLICY
from elearn.xapi import services as xapi


def hours_for_seconds(seconds: float) -> float:
    """学时 for ``seconds`` of online study (POLICY.minutes_per_online_hour minutes each), to 0.01."""
    return round(seconds / (POLICY.minutes_per_online_hour * 60), 2)


def _insert_ignoring_duplicate(values: dict) -> bool:
    """Insert a ledger row unless its source is already credited; True when a row was inserted."""
    # Chained first (the head's row lock orders credits); a duplicate gives its position back.
    conn = db.session.connection()
    link = chain.seal(conn, values)
    # RETURNING tells whether the row went in: through the ORM session, psycopg reports rowcount -1.
    stmt = dialect_insert(db.session)(StudyCredit).values(**values).on_conflict_do_nothing(
        index_elements=["user_id", "source_kind", "source_id"]).returning(StudyCredit.id)
    if db.session.execute(stmt).first() is None:
        chain.unseal(conn, link)
        return False
    # The analytics summaries follow in the same transaction, only for a row that was really added.
    apply_credit_to_summaries(db.session.connection(), values)
    xapi.credited(values)  # its learning record, in the same transaction
    points.award_for_credit(values)  # study points follow what was really credited (a correction takes back)
    return True


def credit(user: User, *, kind: str, source_kind: str, source_id: int, hours: float, title: str,
           category: str | None, innovative_theory: bool, offjob: bool = False, county_level: bool = False,
           credited_on: date | None = None, course_id: int | None = None, recorded_by: User | None = None,
           note: str | None = None) -> bool:
    """Add a credit for ``user`` unless ``(source_kind, source_id)`` is already credited to them.

    Returns True when a row was added. Does not commit. The organisation recorded is the member's home
    organisation at this moment, so later transfers do not move past hours.
    """
    if kind not in CREDIT_KINDS:
        raise ServiceError(_("未知的学时类型。"), "bad_kind")
    hours = round(float(hours), 2)
    if hours <= 0 and kind != "correction":
        return False
    return _insert_ignoring_duplicate({
        "user_id": user.id, "hours": hours, "kind": kind, "source_kind": source_kind, "source_id": source_id,
        "course_id": course_id, "title": title[:300], "category": category,
        "innovative_theory": bool(innovative_theory), "offjob": bool(offjob), "county_level": bool(county_level),
        "credited_on": credited_on or clock.site_today(), "organisation_id": user.organisation_id,
        "recorded_by_id": recorded_by.id if recorded_by is not None else None, "note": note,
    })


def entries(user: User, start: date | None = None, end: date | None = None) -> list[StudyCredit]:
    """The member's ledger, oldest first, optionally within ``[start, end]``."""
    stmt = select(StudyCredit).where(StudyCredit.user_id == user.id)
    if start is not None:
        stmt = stmt.where(StudyCredit.credited_on >= start)
    if end is not None:
        stmt = stmt.where(StudyCredit.credited_on <= end)
    return list(db.session.execute(stmt.order_by(StudyCredit.credited_on, StudyCredit.id)).scalars())


def total_hours(user: User) -> float:
    return round(db.session.execute(
        select(func.coalesce(func.sum(StudyCredit.hours), 0.0)).where(StudyCredit.user_id == user.id)).scalar_one(), 2)


def is_credited(user: User, source_kind: str, source_id: int) -> bool:
    return db.session.execute(select(StudyCredit.id).where(
        StudyCredit.user_id == user.id, StudyCredit.source_kind == source_kind,
        StudyCredit.source_id == source_id)).first() is not None


@dataclass(frozen=True)
class LedgerRow:
    """A ledger entry as plain data for pages and exports."""

    id: int
    credited_on: date
    kind: str
    kind_label: str
    title: str
    hours: float
    category: str | None
    category_label: str
    innovative_theory: bool
    offjob: bool
    county_level: bool
    note: str | None


def rows(user: User, start: date | None = None, end: date | None = None) -> list[LedgerRow]:
    return [LedgerRow(id=e.id, credited_on=e.credited_on, kind=e.kind, kind_label=str(CREDIT_KINDS[e.kind]),
                      title=e.title, hours=e.hours, category=e.category,
                      category_label=str(CONTENT_CATEGORIES.get(e.category, "")) if e.category else "",
                      innovative_theory=e.innovative_theory, offjob=e.offjob, county_level=e.county_level,
                      note=e.note)
            for e in entries(user, start, end)]


def correct(actor: User, entry_id: int, note: str) -> StudyCredit:
    """Cancel a wrongly recorded entry with a negative one (the original stays).

    The correction takes the entry's own day and organisation, so the year it counted for (yearly rules) and
    the organisation-month it counted in lose exactly those hours; a corrected lesson or course no longer
    counts as finished. Only an admin of both the member and the organisation the entry was credited in may
    correct it (hours earned before a transfer are corrected by an admin above both)."""
    entry = db.session.get(StudyCredit, entry_id)
    if entry is None:
        raise NotFound(_("学时记录不存在。"))
    member = entry.user
    if not orgs.can_manage(actor, member.organisation):
        raise NotFound(_("学时记录不存在。"))
    if not orgs.can_manage(actor, entry.organisation):
        raise Forbidden(_("该记录计入其他组织，请由上级组织更正。"))
    if entry.kind == "correction":
        raise ServiceError(_("更正记录不能再次更正。"), "bad_correction")
    if not (note or "").strip():
        raise ServiceError(_("请填写更正原因。"), "note_required")
    added = _insert_ignoring_duplicate(_correction_of(entry, actor, note))
    if not added:
        raise ServiceError(_("该记录已更正过。"), "already_corrected")
    if entry.course_id is not None and (entry.source_kind == "lesson" or entry.kind == "course"):
        P = MemberCourseProgress
        db.session.execute(update(P).where(P.user_id == member.id, P.course_id == entry.course_id).values(
            lessons=P.lessons - (1 if entry.source_kind == "lesson" else 0),
            whole=P.whole - (1 if entry.kind == "course" else 0)))
    row = db.session.execute(select(StudyCredit).where(
        StudyCredit.user_id == member.id, StudyCredit.source_kind == "correction",
        StudyCredit.source_id == entry.id)).scalar_one()
    # Certificates that counted the corrected entry no longer state the truth; a reissue gets a new serial.
    certificates.revoke_for_correction(entry, row.note or "")
    audit.record(actor, "credit.correct", row, after={"corrects": entry.id, "hours": row.hours, "note": row.note})
    db.session.commit()
    return row


def _correction_of(entry: StudyCredit, actor: User, note: str) -> dict:
    return {
        "user_id": entry.user_id, "hours": -entry.hours, "kind": "correction", "source_kind": "correction",
        "source_id": entry.id, "course_id": entry.course_id, "title": entry.title, "category": entry.category,
        "innovative_theory": entry.innovative_theory, "offjob": entry.offjob, "county_level": entry.county_level,
        "credited_on": entry.credited_on, "organisation_id": entry.organisation_id, "recorded_by_id": actor.id,
        "note": note.strip()[:300],
    }


def reverse(user: User, source_kind: str, source_id: int, *, actor: User, note: str) -> bool:
    """Cancel the member's credit of ``(source_kind, source_id)`` with a correction as :func:`correct` does, for
    a service that has checked its own rights (a branch secretary re-marking a meeting's attendance). False when
    there is no such credit or it is already corrected. Does not commit."""
    entry = db.session.execute(select(StudyCredit).where(
        StudyCredit.user_id == user.id, StudyCredit.source_kind == source_kind,
        StudyCredit.source_id == source_id)).scalar_one_or_none()
    if entry is None or not _insert_ignoring_duplicate(_correction_of(entry, actor, note)):
        return False
    certificates.revoke_for_correction(entry, note.strip()[:300])
    return True


def corrected_ids(user: User) -> set[int]:
    """Ids of the member's entries that a correction has cancelled."""
    return set(db.session.execute(select(StudyCredit.source_id).where(
        StudyCredit.user_id == user.id, StudyCredit.source_kind == "correction")).scalars())


__all__ = [
    "Forbidden",
    "LedgerRow",
    "correct",
    "corrected_ids",
    "credit",
    "entries",
    "hours_for_seconds",
    "is_credited",
    "reverse",
    "rows",
    "total_hours",
]
