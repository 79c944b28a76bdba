"""The study-hours ledger (append-only, one row per credited thing per member) and the summaries kept in step
with it in the same transaction (per member, per organisation-month, per member-course)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    case,
    event,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Base, dialect_insert
from elearn.orgs.models import Organisation, User
from elearn.policy import POLICY


class StudyCredit(Base):
    """The study-hours ledger: append-only, one row per credited thing per member.

    ``(user_id, source_kind, source_id)`` is unique, so a completion can never be credited twice however many
    workers race. Rows are never updated or deleted; a correction is a new row of kind ``correction`` whose
    source is the corrected row.
    """

    __tablename__ = "study_credit"
    __table_args__ = (
        UniqueConstraint("user_id", "source_kind", "source_id"),
        Index("ix_study_credit_user_date", "user_id", "credited_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    hours: Mapped[float]
    kind: Mapped[str] = mapped_column(String(20))  # policy.CREDIT_KINDS
    source_kind: Mapped[str] = mapped_column(String(30))  # lesson, course, reading, quiz, offline_training, …
    source_id: Mapped[int]
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"))
    title: Mapped[str] = mapped_column(String(300))  # what was studied, as it was called then
    category: Mapped[str | None] = mapped_column(String(40))  # policy.CONTENT_CATEGORIES
    innovative_theory: Mapped[bool] = mapped_column(default=False)
    offjob: Mapped[bool] = mapped_column(default=False)  # 脱产培训
    county_level: Mapped[bool] = mapped_column(default=False)  # organised at county level or above
    credited_on: Mapped[date] = mapped_column(index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)  # at the time
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    chain_seq: Mapped[int | None] = mapped_column(unique=True)  # None: written behind the app's back
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    entry_hash: Mapped[str | None] = mapped_column(String(64))
    hash_alg: Mapped[str | None] = mapped_column(String(10))  # sha256 or sm3 (ELEARN_LEDGER_HASH when written)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship()


@event.listens_for(StudyCredit, "before_insert")
def _chain_orm_entry(_mapper, connection, target):
    from elearn.ledger import chain  # chain reads these models

    if target.chain_seq is None:
        chain.seal_orm_entry(connection, target)


@event.listens_for(StudyCredit, "before_update")
@event.listens_for(StudyCredit, "before_delete")
def _ledger_is_append_only(_mapper, _connection, target):
    raise ValueError(f"study_credit {target.id} is append-only; record a correction instead")


class LedgerChain(Base):
    """The head of the ledger's hash chain (one row): the last position taken and its entry's hash. Updating it
    is the lock that orders credits on the chain."""

    __tablename__ = "ledger_chain"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    head_hash: Mapped[str] = mapped_column(String(64))


class LedgerCheckpoint(Base):
    """A signed anchor of the chain: at ``created_at`` entry ``seq`` had hash ``entry_hash``. The signature
    (Ed25519, the key in ``instance/``) is over ``elearn.ledger.chain.checkpoint_message``; a copy of every
    checkpoint is appended to a file outside the database as well, so rewriting the whole chain and its
    checkpoints in the database still shows."""

    __tablename__ = "ledger_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int]
    entry_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(16))  # the first 16 hex digits of the public key's SHA-256
    signature: Mapped[str] = mapped_column(String(128))  # hex


class MemberStudySummary(Base):
    """Per member: ledger hours credited within the cycle (POLICY.cycle_start … cycle_end), kept in step with
    the ledger in the same transaction as each insert (elearn.ledger.services), with an additive UPSERT so
    concurrent credits never lose an update. Rebuilt from the ledger by ``elearn analytics rebuild``."""

    __tablename__ = "member_study_summary"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    hours: Mapped[float] = mapped_column(default=0.0)
    theory_hours: Mapped[float] = mapped_column(default=0.0)
    credits: Mapped[int] = mapped_column(default=0)
    last_credited_on: Mapped[date | None]


class OrgMonthStudy(Base):
    """Ledger hours per (organisation at the time of the credit, month), for the monthly trend."""

    __tablename__ = "org_month_study"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)  # the first day of the month
    hours: Mapped[float] = mapped_column(default=0.0)
    theory_hours: Mapped[float] = mapped_column(default=0.0)
    credits: Mapped[int] = mapped_column(default=0, server_default="0")  # ledger rows (their sum: the ledger's size)


class MemberCourseProgress(Base):
    """Per (member, course): lessons credited and whether the course was credited as a whole, for completions
    per series (a course is finished by a course credit or credits for each of its playable lessons)."""

    __tablename__ = "member_course_progress"
    __table_args__ = (Index("ix_member_course_progress_course", "course_id", "user_id", "lessons", "whole"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), primary_key=True)
    lessons: Mapped[int] = mapped_column(default=0)  # distinct lessons credited
    whole: Mapped[int] = mapped_column(default=0)  # course credits (0 or 1)


def apply_credit_to_summaries(connection, values: dict) -> None:
    """Add one new ledger row (``values``: its columns) to the summary tables, on ``connection`` and so in the
    ledger insert's transaction. Additive UPSERTs (``x = x + excluded.x``): concurrent credits to the same
    member or organisation-month serialise on the row and none is lost. Call only when the row was inserted."""
    ins = dialect_insert(connection)
    hours = float(values["hours"])
    theory = hours if values.get("innovative_theory") else 0.0
    on: date = values["credited_on"]
    in_cycle = POLICY.cycle_start <= on <= POLICY.cycle_end
    s = MemberStudySummary.__table__
    stmt = ins(s).values(user_id=values["user_id"], hours=hours if in_cycle else 0.0,
                         theory_hours=theory if in_cycle else 0.0, credits=1, last_credited_on=on)
    stmt = stmt.on_conflict_do_update(index_elements=[s.c.user_id], set_={
        "hours": s.c.hours + stmt.excluded.hours, "theory_hours": s.c.theory_hours + stmt.excluded.theory_hours,
        "credits": s.c.credits + 1,
        "last_credited_on": case((s.c.last_credited_on.is_(None) | (s.c.last_credited_on < stmt.excluded
                                                                     .last_credited_on),
                                  stmt.excluded.last_credited_on), else_=s.c.last_credited_on)})
    connection.execute(stmt)
    m = OrgMonthStudy.__table__
    stmt = ins(m).values(organisation_id=values["organisation_id"], month=on.replace(day=1), hours=hours,
                         theory_hours=theory, credits=1)
    connection.execute(stmt.on_conflict_do_update(index_elements=[m.c.organisation_id, m.c.month], set_={
        "hours": m.c.hours + stmt.excluded.hours, "theory_hours": m.c.theory_hours + stmt.excluded.theory_hours,
        "credits": m.c.credits + 1}))
    lesson = values.get("source_kind") == "lesson"
    whole = values.get("kind") == "course"
    if values.get("course_id") is not None and (lesson or whole):
        p = MemberCourseProgress.__table__
        stmt = ins(p).values(user_id=values["user_id"], course_id=values["course_id"], lessons=int(lesson),
                             whole=int(whole))
        connection.execute(stmt.on_conflict_do_update(index_elements=[p.c.user_id, p.c.course_id], set_={
            "lessons": p.c.lessons + stmt.excluded.lessons, "whole": p.c.whole + stmt.excluded.whole}))


_SUMMARY_COLUMNS = ("user_id", "hours", "kind", "source_kind", "course_id", "innovative_theory", "credited_on",
                    "organisation_id")


@event.listens_for(StudyCredit, "after_insert")
def _summaries_follow_orm_inserts(_mapper, connection, target):
    """Ledger rows added through the ORM (``session.add``) update the summaries like ledger.credit does."""
    apply_credit_to_summaries(connection, {k: getattr(target, k) for k in _SUMMARY_COLUMNS})


class Certificate(Base):
    """A certificate issued to a member (elearn.ledger.certificates): the cycle's transcript (``kind`` "cycle")
    or one completed series ("series"). ``content`` is the canonical JSON that ``signature`` (Ed25519, hex, by
    the key ``key_id``) covers, exactly as signed; ``statement_digest`` is the SHA-256 of what it states apart
    from its serial, code and date, so asking again with nothing changed returns the same certificate. A newer
    certificate of the same member and kind sets ``replaced_by_id``; a correction of the member's credits that
    it counted sets ``revoked_at``."""

    __tablename__ = "certificate"
    __table_args__ = (Index("ix_certificate_user_kind", "user_id", "kind", "series_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(24), unique=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # the /verify/<code> of its QR code
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(10))  # cycle, series
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id"))
    statement_digest: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(300))
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
