"""Watch time and reading time, honestly counted.

How a progress report turns into credited media time, in order:

1. The report is validated strictly (the payload schemas of :mod:`elearn.study.schemas`); anything malformed is a 400.
2. Its playback session (a client UUID) is registered on the first segment it fetched or the first report,
   and must belong to the same member and lesson. A report whose ``seq`` is not above the session's last
   accepted one changes nothing (replays and out-of-order reports are idempotent).
3. The reported intervals are clipped to the media, dropped entirely when the page was hidden or the
   declared rate is above ``ELEARN_MAX_PLAYBACK_RATE``, intersected with the segments this app actually
   delivered to that playback session (:func:`record_segment_delivery`), and reduced by what the member had
   already watched (union: two devices never double count).
4. What is left is granted up to a wall-clock budget kept per member and lesson, across all sessions and
   devices: a token bucket refilled at ``max rate`` media seconds per wall-clock second since the last
   accepted report, whose leftover is capped at ``POLICY.report_allowance_s``. So one report never credits
   more than ``elapsed × rate + allowance``, and any sequence of reports never more than
   ``total elapsed × rate + allowance``.
5. Coverage ``union / duration ≥ POLICY.completion_coverage`` completes the lesson and writes one ledger
   entry: the lesson's duration in 学时, or — when the course declares its hours — the declared hours once
   every lesson of the course is complete.

Rows that several requests may update at once carry an optimistic ``version``; a conflicting update is
retried from a fresh read, so concurrent workers neither double count nor lose a report.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from elearn import clock
from elearn.courses import catalog
from elearn.courses.models import Course, Lesson
from elearn.errors import Busy, Conflict, NotFound
from elearn.extensions import db, dialect_insert, existing
from elearn.http.schemas import validate
from elearn.ledger import services as ledger
from elearn.media.models import MediaAsset
from elearn.orgs.models import User
from elearn.policy import POLICY
from elearn.readings.models import CourseReading, Reading
from elearn.study import intervals
from elearn.study.models import (
    PlaybackSession,
    ReadingProgress,
    SegmentDelivery,
    WatchProgress,
)
from elearn.study.schemas import SESSION_ID_PATTERN, LessonReport, ReadingReport

SESSION_ID_RE = re.compile(SESSION_ID_PATTERN)
RETRIES = 6


def parse_lesson_report(data: object) -> LessonReport:
    """``data`` (a decoded JSON body) as a lesson report; a 400 ServiceError naming the first bad field."""
    return validate(LessonReport, data, "bad_report")


def parse_reading_report(data: object) -> ReadingReport:
    """``data`` (a decoded JSON body) as a reading report; a 400 ServiceError naming the first bad field."""
    return validate(ReadingReport, data, "bad_report")


# ---------------------------------------------------------------- the budget

def max_rate() -> float:
    return float(current_app.config.get("ELEARN_MAX_PLAYBACK_RATE", 2.0))


def grant_budget(leftover: float, since: datetime | None, now: datetime, rate: float) -> float:
    """Media seconds a report at ``now`` may credit: the leftover slack (capped at the allowance) plus
    ``rate`` per wall-clock second since ``since``."""
    elapsed = max(0.0, (now - since).total_seconds()) if since is not None else 0.0
    return min(max(leftover, 0.0), POLICY.report_allowance_s) + elapsed * rate


def _since(budget_at: datetime | None, session: PlaybackSession) -> datetime:
    own = session.last_report_at or session.started_at
    return max(budget_at, own) if budget_at is not None else own


# ---------------------------------------------------------------- sessions and segment evidence

def _register_session(sid: str, user: User, *, now: datetime, lesson_id: int | None = None,
                      reading_id: int | None = None) -> PlaybackSession | None:
    """The session ``sid`` registered to ``user`` for this lesson/reading, or None if it belongs elsewhere."""
    db.session.execute(dialect_insert(db.session)(PlaybackSession).values(
        id=sid, user_id=user.id, lesson_id=lesson_id, reading_id=reading_id, started_at=now, last_seq=-1,
        version=1).on_conflict_do_nothing(index_elements=["id"]))
    session = db.session.get(PlaybackSession, sid)
    if session is None or session.user_id != user.id or session.lesson_id != lesson_id \
            or session.reading_id != reading_id:
        return None
    return session


def record_segment_delivery(user: User, asset: MediaAsset, rendition_name: str, segment_index: int,
                            start_s: float, end_s: float, playback_session_id: str | None,
                            now: datetime | None = None) -> bool:
    """Record that the app served segment ``segment_index`` (media ``[start_s, end_s)``) of ``asset`` to
    ``user``'s playback session. Idempotent per (session, segment index); commits.

    Returns False (and records nothing) without a well-formed session id, or when the session belongs to
    another member or lesson — serving the segment is the caller's decision, crediting it is not.
    """
    if not playback_session_id or not SESSION_ID_RE.match(playback_session_id):
        return False
    if not (math.isfinite(start_s) and math.isfinite(end_s)) or end_s <= start_s or segment_index < 0:
        return False
    now = now or clock.now_utc()
    try:
        session = _register_session(playback_session_id, user, now=now, lesson_id=asset.lesson_id)
        if session is None:
            db.session.rollback()
            return False
        db.session.execute(dialect_insert(db.session)(SegmentDelivery).values(
            session_id=session.id, user_id=user.id, asset_id=asset.id, rendition=str(rendition_name)[:40],
            segment_index=int(segment_index), start_s=float(start_s), end_s=float(end_s), delivered_at=now,
        ).on_conflict_do_nothing(index_elements=["session_id", "segment_index"]))
        db.session.commit()
    except IntegrityError:  # pragma: no cover - ON CONFLICT covers the races we know of
        db.session.rollback()
        return False
    return True


def delivered_coverage(session_id: str, asset_id: int, within: tuple[float, float] | None = None
                       ) -> intervals.Intervals:
    """Media covered by the segments delivered to the session, optionally only those overlapping ``within``
    (a report needs only the segments around what it claims, not the whole lesson's)."""
    stmt = select(SegmentDelivery.start_s, SegmentDelivery.end_s).where(
        SegmentDelivery.session_id == session_id, SegmentDelivery.asset_id == asset_id)
    if within is not None:
        stmt = stmt.where(SegmentDelivery.end_s > within[0], SegmentDelivery.start_s < within[1])
    return intervals.normalise(db.session.execute(stmt).all())


# ---------------------------------------------------------------- lessons

@dataclass(frozen=True)
class LessonProgress:
    """What the player and pages need to know about a member's progress on a lesson."""

    lesson_id: int
    accepted: bool
    credited_seconds: float  # newly credited by this report (0 for reads)
    watched_seconds: float
    duration_seconds: float
    coverage: float
    position: float
    completed: bool
    reason: str | None = None

    def as_dict(self) -> dict:
        return {"lesson_id": self.lesson_id, "accepted": self.accepted,
                "credited_seconds": round(self.credited_seconds, 3),
                "watched_seconds": round(self.watched_seconds, 3),
                "duration_seconds": self.duration_seconds, "coverage": round(self.coverage, 4),
                "position": round(self.position, 3), "completed": self.completed, "reason": self.reason}


def get_lesson_for(user: User, lesson_id: int) -> Lesson:
    """The lesson if ``user`` may watch it; NotFound otherwise (never confirms an id out of reach)."""
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or not catalog.can_view_lesson(user, lesson):
        raise NotFound(_("课程内容不存在。"))
    return lesson


def _progress_row(user: User, lesson_id: int) -> WatchProgress | None:
    return db.session.execute(select(WatchProgress).where(
        WatchProgress.user_id == user.id, WatchProgress.lesson_id == lesson_id)).scalar_one_or_none()


def _summary(lesson: Lesson, row: WatchProgress | None, *, accepted: bool = True, credited: float = 0.0,
             reason: str | None = None) -> LessonProgress:
    duration = lesson.duration_s or 0.0
    watched = row.watched_s if row else 0.0
    return LessonProgress(
        lesson_id=lesson.id, accepted=accepted, credited_seconds=credited, watched_seconds=watched,
        duration_seconds=duration, coverage=(watched / duration) if duration else 0.0,
        position=row.position_s if row else 0.0, completed=bool(row and row.completed_at), reason=reason)


def lesson_progress(user: User, lesson: Lesson) -> LessonProgress:
    """Resume position, coverage and completion of ``lesson`` for ``user`` (any device)."""
    return _summary(lesson, _progress_row(user, lesson.id), accepted=True)


def report_lesson_progress(user: User, lesson: Lesson, report: LessonReport,
                           now: datetime | None = None) -> LessonProgress:
    """Apply one validated report (see the module docstring); commits. Retries on concurrent updates."""
    if lesson.asset is None or lesson.asset.status != "ready" or not lesson.duration_s:
        raise Conflict(_("该课程内容暂无可播放的视频。"), "not_playable")
    for _attempt in range(RETRIES):
        try:
            result = _apply_lesson_report(user, lesson, report, now or clock.now_utc())
            db.session.commit()
            return result
        except (StaleDataError, IntegrityError):
            db.session.rollback()
    raise Busy(_("服务器繁忙，请稍后重试。"), "busy")


def _apply_lesson_report(user: User, lesson: Lesson, report: LessonReport, now: datetime) -> LessonProgress:
    asset_id, duration_s = lesson.asset_id, lesson.duration_s
    assert asset_id is not None and duration_s is not None, "report_lesson_progress lets only playable lessons in"
    session = _register_session(report.playback_session, user, now=now, lesson_id=lesson.id)
    if session is None:
        raise Conflict(_("该播放会话不属于此课程。"), "session_mismatch")
    row = _progress_row(user, lesson.id)
    if row is None:
        row = WatchProgress(user_id=user.id, lesson_id=lesson.id, asset_id=lesson.asset_id, intervals=[],
                            watched_s=0.0, position_s=0.0, budget_s=POLICY.report_allowance_s, budget_at=None)
        db.session.add(row)
        db.session.flush()
    if report.seq <= session.last_seq:
        return _summary(lesson, row, accepted=False, reason="duplicate")

    duration = float(duration_s)
    rate = max_rate()
    budget = grant_budget(row.budget_s, _since(row.budget_at, session), now, rate)
    watched = intervals.normalise(row.intervals or [])
    reason = None
    if not report.visible:
        new: intervals.Intervals = []
        reason = "hidden"
    elif report.rate > rate + 1e-9:
        new = []
        reason = "rate"
    else:
        new = intervals.subtract(intervals.clip(intervals.normalise(report.intervals), 0.0, duration), watched)
        if new:
            evidence = delivered_coverage(session.id, asset_id, (new[0][0], new[-1][1]))
            new = intervals.intersect(new, evidence)
    granted = intervals.take(new, budget)
    added = intervals.length(granted)
    if added + 1e-6 < intervals.length(new):
        reason = "budget"
    if granted:
        watched = intervals.union(watched, granted)
        row.intervals = intervals.to_json(watched)
        row.watched_s = round(intervals.length(watched), 3)
    row.budget_s = min(budget - added, POLICY.report_allowance_s)
    row.budget_at = now
    row.position_s = min(report.position, duration)
    row.asset_id = lesson.asset_id
    session.last_seq = report.seq
    session.last_report_at = now
    if row.completed_at is None and row.watched_s >= POLICY.completion_coverage * duration - 1e-6:
        row.completed_at = now
        db.session.flush()
        _credit_completion(user, lesson, now)
    db.session.flush()
    return _summary(lesson, row, accepted=True, credited=added, reason=reason)


def _credit_completion(user: User, lesson: Lesson, now: datetime) -> None:
    course: Course = lesson.course
    if course.declared_hours:
        playable = [les.id for les in course.lessons if les.duration_s]
        done = db.session.execute(select(func.count()).select_from(WatchProgress).where(
            WatchProgress.user_id == user.id, WatchProgress.lesson_id.in_(playable),
            WatchProgress.completed_at.is_not(None))).scalar_one()
        if playable and done >= len(playable):
            ledger.credit(user, kind="course", source_kind="course", source_id=course.id,
                          hours=course.declared_hours, title=course.title, category=course.category,
                          innovative_theory=course.innovative_theory, course_id=course.id,
                          credited_on=clock.site_date(now))
        return
    ledger.credit(user, kind="lesson", source_kind="lesson", source_id=lesson.id,
                  hours=ledger.hours_for_seconds(lesson.duration_s or 0.0),
                  title=f"{course.title} · {lesson.title}", category=course.category,
                  innovative_theory=course.innovative_theory, course_id=course.id, credited_on=clock.site_date(now))


def course_progress(user: User, course: Course) -> dict[int, LessonProgress]:
    """Progress on every lesson of ``course`` in one query."""
    ids = [les.id for les in course.lessons]
    found = {r.lesson_id: r for r in db.session.execute(select(WatchProgress).where(
        WatchProgress.user_id == user.id, WatchProgress.lesson_id.in_(ids))).scalars()} if ids else {}
    return {les.id: _summary(les, found.get(les.id)) for les in course.lessons}


# ---------------------------------------------------------------- readings

@dataclass(frozen=True)
class ReadingStatus:
    reading_id: int
    accepted: bool
    credited_seconds: float
    active_seconds: float
    required_seconds: float
    position: float
    completed: bool
    reason: str | None = None

    def as_dict(self) -> dict:
        return {"reading_id": self.reading_id, "accepted": self.accepted,
                "credited_seconds": round(self.credited_seconds, 3),
                "active_seconds": round(self.active_seconds, 3), "required_seconds": self.required_seconds,
                "position": round(self.position, 4), "completed": self.completed, "reason": self.reason}


def reading_course_for(user: User, reading_id: int) -> tuple[Reading, Course]:
    """The reading and the first course through which ``user`` may read it; NotFound otherwise."""
    reading = db.session.get(Reading, reading_id)
    if reading is None:
        raise NotFound(_("阅读材料不存在。"))
    course_ids = list(db.session.execute(select(CourseReading.course_id).where(
        CourseReading.reading_id == reading.id).order_by(CourseReading.id)).scalars())
    visible = catalog.visible_course_ids(user) if course_ids else set()
    for cid in course_ids:
        if cid in visible:
            return reading, existing(Course, cid)
    raise NotFound(_("阅读材料不存在。"))


def _required_seconds(reading: Reading) -> float:
    return round(reading.estimated_minutes * 60 * POLICY.reading_completion, 3)


def _reading_row(user: User, reading_id: int) -> ReadingProgress | None:
    return db.session.execute(select(ReadingProgress).where(
        ReadingProgress.user_id == user.id, ReadingProgress.reading_id == reading_id)).scalar_one_or_none()


def _reading_summary(reading: Reading, row: ReadingProgress | None, *, accepted: bool = True,
                     credited: float = 0.0, reason: str | None = None) -> ReadingStatus:
    return ReadingStatus(reading_id=reading.id, accepted=accepted, credited_seconds=credited,
                         active_seconds=row.active_s if row else 0.0, required_seconds=_required_seconds(reading),
                         position=row.position if row else 0.0, completed=bool(row and row.completed_at),
                         reason=reason)


def reading_progress(user: User, reading: Reading) -> ReadingStatus:
    return _reading_summary(reading, _reading_row(user, reading.id))


def report_reading_progress(user: User, reading: Reading, course: Course, report: ReadingReport,
                            now: datetime | None = None) -> ReadingStatus:
    """Add active reading time: visible pages only, at most one second per wall-clock second (plus the
    allowance) across devices, at most the reading's estimate in total. Reaching the estimate credits the
    reading once (its estimated minutes in 学时). Commits; retries on concurrent updates."""
    for _attempt in range(RETRIES):
        try:
            result = _apply_reading_report(user, reading, course, report, now or clock.now_utc())
            db.session.commit()
            return result
        except (StaleDataError, IntegrityError):
            db.session.rollback()
    raise Busy(_("服务器繁忙，请稍后重试。"), "busy")


def _apply_reading_report(user: User, reading: Reading, course: Course, report: ReadingReport,
                          now: datetime) -> ReadingStatus:
    session = _register_session(report.playback_session, user, now=now, reading_id=reading.id)
    if session is None:
        raise Conflict(_("该阅读会话不属于此材料。"), "session_mismatch")
    row = _reading_row(user, reading.id)
    if row is None:
        row = ReadingProgress(user_id=user.id, reading_id=reading.id, course_id=course.id, active_s=0.0,
                              position=0.0, budget_s=POLICY.report_allowance_s, budget_at=None)
        db.session.add(row)
        db.session.flush()
    if report.seq <= session.last_seq:
        return _reading_summary(reading, row, accepted=False, reason="duplicate")
    required = _required_seconds(reading)
    budget = grant_budget(row.budget_s, _since(row.budget_at, session), now, 1.0)
    reason = None
    wanted = report.active_seconds if report.visible else 0.0
    if not report.visible:
        reason = "hidden"
    room = max(0.0, required - row.active_s)
    added = min(wanted, budget, room)
    if added + 1e-6 < min(wanted, room):
        reason = "budget"
    row.active_s = round(row.active_s + added, 3)
    row.budget_s = min(budget - added, POLICY.report_allowance_s)
    row.budget_at = now
    row.position = report.position
    session.last_seq = report.seq
    session.last_report_at = now
    if row.completed_at is None and reading.estimated_minutes >= POLICY.reading_min_minutes \
            and row.active_s >= required - 1e-6:
        row.completed_at = now
        ledger.credit(user, kind="reading", source_kind="reading", source_id=reading.id,
                      hours=ledger.hours_for_seconds(reading.estimated_minutes * 60), title=reading.title,
                      category=course.category, innovative_theory=course.innovative_theory, course_id=course.id,
                      credited_on=clock.site_date(now))
    db.session.flush()
    return _reading_summary(reading, row, accepted=True, credited=added, reason=reason)
