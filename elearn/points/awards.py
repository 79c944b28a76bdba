"""Awarding study points (学习积分) from what the ledger really credited, and what a member has earned.

:func:`award_for_credit` is called by ``elearn.ledger.services`` in the transaction of every ledger row that
was really inserted (never for a duplicate), so points follow credit exactly: a lesson, course, quiz or reading
earns its points once (POLICY: ``elearn.policy.POINTS``), the day's first such credit earns the daily points
and every ``POINTS.streak_days`` consecutive study days a bonus, and a correction of a credit takes its points
back. Credits serialise on the ledger chain's head row (elearn.ledger.chain), so the daily cap is counted
against committed awards even when two workers credit the same member at once. Nothing here writes to the
ledger: points never change 学时.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from elearn import clock
from elearn.extensions import db, dialect_insert
from elearn.ledger.models import StudyCredit
from elearn.orgs.models import User
from elearn.points.models import PointsAward
from elearn.policy import POINTS

REASON_LABELS = {
    "lesson": _l("完成课时"),
    "course": _l("完成课程"),
    "quiz": _l("通过测验"),
    "reading": _l("完成阅读"),
    "daily": _l("当日学习"),
    "streak": _l("连续学习奖励"),
    "reversal": _l("学时更正，收回积分"),
}


def award_for_credit(values: dict) -> None:
    """Award the points of one ledger row just inserted (``values``: its columns). Does not commit."""
    source_kind = values["source_kind"]
    if source_kind == "correction":
        _take_back(values)
        return
    points = POINTS.for_source(source_kind)
    if points is None:
        return  # trainings and meetings are recorded by others: 学时, but no study points
    user_id, today = values["user_id"], clock.site_today()
    _study_day(user_id, today)
    _award(user_id, source_kind, values["source_id"], points, today, title=values.get("title") or "")


def _earned_on(user_id: int, day: date) -> int:
    """Points earned on ``day`` (take-backs do not make room under the cap)."""
    return int(db.session.execute(select(func.coalesce(func.sum(PointsAward.points), 0)).where(
        PointsAward.user_id == user_id, PointsAward.awarded_on == day, PointsAward.points > 0)).scalar_one())


def _award(user_id: int, reason: str, reference: int, points: int, day: date, *, title: str = "",
           streak_days: int | None = None, cap: bool = True) -> bool:
    """Insert one award unless it exists; True when inserted. Positive points are cut to the day's room."""
    given = points
    if cap and points > 0:
        given = max(0, min(points, POINTS.daily_cap - _earned_on(user_id, day)))
    stmt = dialect_insert(db.session)(PointsAward).values(
        user_id=user_id, reason=reason, reference=reference, points=given, capped=given < points,
        title=title[:300], streak_days=streak_days, awarded_on=day,
    ).on_conflict_do_nothing(index_elements=["user_id", "reason", "reference"]).returning(PointsAward.id)
    return db.session.execute(stmt).first() is not None


def _study_day(user_id: int, day: date) -> None:
    """The day's study points (once a day) and, on every ``POINTS.streak_days``-th day in a row, the bonus."""
    before = db.session.execute(select(PointsAward.streak_days).where(
        PointsAward.user_id == user_id, PointsAward.reason == "daily",
        PointsAward.reference == (day - timedelta(days=1)).toordinal())).scalar_one_or_none()
    streak = (before or 0) + 1
    if _award(user_id, "daily", day.toordinal(), POINTS.daily_study, day, streak_days=streak) \
            and streak % POINTS.streak_days == 0:
        _award(user_id, "streak", day.toordinal(), POINTS.streak_bonus, day, streak_days=streak)


def _take_back(values: dict) -> None:
    """A correction cancels a credit: the points its credit earned are taken back, once."""
    corrected = db.session.execute(select(StudyCredit.source_kind, StudyCredit.source_id).where(
        StudyCredit.id == values["source_id"])).first()
    if corrected is None:
        return
    award = db.session.execute(select(PointsAward).where(
        PointsAward.user_id == values["user_id"], PointsAward.reason == corrected.source_kind,
        PointsAward.reference == corrected.source_id)).scalar_one_or_none()
    if award is None or award.points <= 0:
        return
    _award(award.user_id, "reversal", award.id, -award.points, clock.site_today(), title=award.title, cap=False)


# -- what a member has earned ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class AwardRow:
    """One award as plain data for pages and the API."""

    reason: str
    reason_label: str
    title: str
    points: int
    capped: bool
    awarded_on: date


@dataclass(frozen=True)
class PointsSummary:
    total: int
    year: int
    year_points: int
    today_points: int
    streak_days: int  # consecutive study days up to today (or yesterday, while today may still count)
    recent: list[AwardRow]


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _streak_days(user_id: int, today: date):
    """The streak as a scalar subquery: the daily award of today, else of yesterday (today may still count).
    Of its own alias, so that it never correlates with a query over the awards it is part of."""
    A = aliased(PointsAward)
    return (select(A.streak_days).where(A.user_id == user_id, A.reason == "daily",
                                        A.reference.in_([today.toordinal(), today.toordinal() - 1]))
            .order_by(A.reference.desc()).limit(1).scalar_subquery())


@dataclass(frozen=True)
class PointsGlance:
    """What the home shows of the member's points."""

    total: int
    today_points: int
    streak_days: int


def glance(user: User) -> PointsGlance:
    """The member's points in all, today and the current streak, in one query (the home's)."""
    today = clock.site_today()
    A = PointsAward
    total, today_points, streak = db.session.execute(select(
        func.coalesce(func.sum(A.points), 0),
        func.coalesce(func.sum(A.points).filter(A.awarded_on == today), 0),
        _streak_days(user.id, today),
    ).where(A.user_id == user.id)).one()
    return PointsGlance(total=int(total), today_points=int(today_points), streak_days=streak or 0)


def summary(user: User) -> PointsSummary:
    """The member's points: in all, this (site) year, today, the current streak and the recent awards."""
    today = clock.site_today()
    start, end = year_bounds(today.year)
    A = PointsAward
    total, year_points, today_points, streak = db.session.execute(select(
        func.coalesce(func.sum(A.points), 0),
        func.coalesce(func.sum(A.points).filter(A.awarded_on.between(start, end)), 0),
        func.coalesce(func.sum(A.points).filter(A.awarded_on == today), 0),
        _streak_days(user.id, today),
    ).where(A.user_id == user.id)).one()
    recent = db.session.execute(select(A).where(A.user_id == user.id).order_by(A.id.desc())
                                .limit(POINTS.recent_awards)).scalars()
    return PointsSummary(total=int(total), year=today.year, year_points=int(year_points),
                         today_points=int(today_points), streak_days=streak or 0,
                         recent=[AwardRow(reason=a.reason, reason_label=str(REASON_LABELS.get(a.reason, a.reason)),
                                          title=a.title, points=a.points, capped=a.capped, awarded_on=a.awarded_on)
                                 for a in recent])
