"""The ledger's summaries rebuilt from the ledger itself (``elearn analytics rebuild``): needed only after rows
reach the ledger without :func:`elearn.ledger.services.credit` or after the cycle dates change."""
from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    case,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import aliased

from elearn.analytics import tracking
from elearn.extensions import db
from elearn.ledger.models import MemberCourseProgress, MemberStudySummary, OrgMonthStudy, StudyCredit
from elearn.policy import POLICY

# -- summaries ------------------------------------------------------------------------------------------------

def rebuild_summaries(commit: bool = True) -> dict[str, int]:
    """Recompute the analytics summary tables from the ledger (after bulk imports or a change of the cycle).

    Kept in step with every credit otherwise (elearn.ledger.models.apply_credit_to_summaries). On PostgreSQL
    the ledger is share-locked meanwhile so no credit slips between the delete and the recount; SQLite
    serialises writers anyway."""
    sc = StudyCredit
    dialect = db.session.get_bind().dialect.name
    month: ColumnElement[Any]
    if dialect == "postgresql":
        db.session.execute(text("LOCK TABLE study_credit IN SHARE MODE"))
        month = func.cast(func.date_trunc("month", sc.credited_on), Date)
    else:
        month = func.strftime("%Y-%m-01", sc.credited_on)
    for model in (MemberStudySummary, OrgMonthStudy, MemberCourseProgress):
        db.session.execute(delete(model))
    in_cycle = and_(sc.credited_on >= POLICY.cycle_start, sc.credited_on <= POLICY.cycle_end)
    theory = case((sc.innovative_theory.is_(True), sc.hours), else_=0.0)
    db.session.execute(insert(MemberStudySummary).from_select(
        ["user_id", "hours", "theory_hours", "credits", "last_credited_on"],
        select(sc.user_id, func.coalesce(func.sum(case((in_cycle, sc.hours), else_=0.0)), 0.0),
               func.coalesce(func.sum(case((in_cycle, theory), else_=0.0)), 0.0), func.count(),
               func.max(sc.credited_on)).group_by(sc.user_id)))
    db.session.execute(insert(OrgMonthStudy).from_select(
        ["organisation_id", "month", "hours", "theory_hours", "credits"],
        select(sc.organisation_id, month, func.sum(sc.hours), func.sum(theory), func.count())
        .group_by(sc.organisation_id, month)))
    lesson = case((sc.source_kind == "lesson", 1), else_=0)
    whole = case((sc.kind == "course", 1), else_=0)
    corrections = aliased(StudyCredit)
    corrected = (select(corrections.id).where(corrections.source_kind == "correction",
                                              corrections.source_id == sc.id, corrections.user_id == sc.user_id)
                 .exists())
    db.session.execute(insert(MemberCourseProgress).from_select(
        ["user_id", "course_id", "lessons", "whole"],
        select(sc.user_id, sc.course_id, func.sum(lesson), func.sum(whole))
        .where(sc.course_id.is_not(None), (sc.source_kind == "lesson") | (sc.kind == "course"), ~corrected)
        .group_by(sc.user_id, sc.course_id)))
    counts = {m.__tablename__: db.session.execute(select(func.count()).select_from(m)).scalar_one()
              for m in (MemberStudySummary, OrgMonthStudy, MemberCourseProgress)}
    tracking.bump_data_version()  # rows may have come in behind the ORM: no snapshot of before counts as current
    if commit:
        db.session.commit()
    return counts
