"""Watch time and reading time, honestly counted.

How a progress report turns into credited media time, in order:

1. The report is validated strictly (the payload schemas of :mod:`elearn.study.schemas`); anything malformed is a
   400 (and counted as a refusal of the member).
2. Its playback session (a client UUID) is registered on the first evidence it received or the first report,
   and must belong to the same member and lesson. A report whose ``seq`` is not above the session's last
   accepted one changes nothing (replays and out-of-order reports are idempotent).
3. The reported intervals are clipped to the media, dropped entirely when the page was hidden or the
   declared rate is above ``ELEARN_MAX_PLAYBACK_RATE``, reduced by what the member had already watched (union:
   two devices never double count), and intersected with the evidence of that playback session
   (:func:`record_segment_delivery`: a segment's key, or for assets of before encryption the segment).
4. What is left is bounded three ways (:func:`_sequential_grant`). Per segment: no more of it than
   ``(now − its delivery) × max rate``, what could have been played since it arrived. Per playback session:
   for every moment ``d`` it received evidence, media credited from segments delivered at ``d`` or later
   never exceeds ``(now − d) × max rate`` plus the allowance (segments fetched at once are not played at
   once). Per member: every lesson, reading, device and tab draws from one :class:`StudyClock`, a token bucket of
   media seconds refilled at ``max rate`` per wall-clock second and capped at ``POLICY.report_allowance_s``
   when spent; a reading second costs ``max rate`` of it (reading is never faster than time). So however
   many lessons and readings a member has open, what they credit together never exceeds elapsed time ×
   max rate plus the allowance.
5. Coverage ``union / duration ≥ POLICY.completion_coverage`` completes the lesson and writes one ledger
   entry: the lesson's duration in 学时, or — when the course declares its hours — the declared hours once
   every lesson of the course is complete.

Why a report credited less than it claimed is answered in ``reason`` and counted per member and reason
(:class:`ReportRefusal`), for the member's org admin.

Rows that several requests may update at once carry an optimistic ``version``; a conflicting update is
retried from a fresh read, so concurrent workers neither double count nor lose a report.
"""
from __future__ import annotations

import bisect
import contextlib
import json
import math
import os
import random
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar, cast

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from elearn import clock, policy
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
    ReportRefusal,
    SegmentDelivery,
    StudyClock,
    WatchProgress,
)
from elearn.study.schemas import SESSION_ID_PATTERN, LessonReport, ReadingReport
from elearn.xapi import services as xapi

SESSION_ID_RE = re.compile(SESSION_ID_PATTERN)
RETRIES = 6
R = TypeVar("R")
_random = random.SystemRandom()


def parse_lesson_report(data: object) -> LessonReport:
    """``data`` (a decoded JSON body) as a lesson report; a 400 ServiceError naming the first bad field."""
    return validate(LessonReport, data, "bad_report")


def parse_reading_report(data: object) -> ReadingReport:
    """``data`` (a decoded JSON body) as a reading report; a 400 ServiceError naming the first bad field."""
    return validate(ReadingReport, data, "bad_report")


# ---------------------------------------------------------------- the member's clock

def max_rate() -> float:
    return float(current_app.config.get("ELEARN_MAX_PLAYBACK_RATE", 2.0))


def _clock(user: User, start: datetime) -> StudyClock:
    """The member's clock; a first one holds the allowance and runs from ``start`` (the session's start)."""
    found = db.session.get(StudyClock, user.id)
    if found is not None:
        return found
    db.session.execute(dialect_insert(db.session)(StudyClock).values(
        user_id=user.id, budget_s=POLICY.report_allowance_s, budget_at=start, version=1,
    ).on_conflict_do_nothing(index_elements=["user_id"]))
    return existing(StudyClock, user.id)


def available_seconds(clock_row: StudyClock, now: datetime, rate: float) -> float:
    """Media seconds the member may still be credited at ``now``: the leftover (at most the allowance) plus
    ``rate`` per wall-clock second since the clock was last brought up to date."""
    elapsed = max(0.0, (now - clock_row.budget_at).total_seconds())
    return min(max(clock_row.budget_s, 0.0), POLICY.report_allowance_s) + elapsed * rate


def _spend(clock_row: StudyClock, available: float, spent: float, now: datetime) -> None:
    """Take ``spent`` from the clock. A report that credits nothing (a hidden tab, a replay, an idle reader)
    leaves it alone: the time keeps accruing for the report that does play, on any device."""
    if spent <= 0:
        return
    clock_row.budget_s = min(available - spent, POLICY.report_allowance_s)
    clock_row.budget_at = max(clock_row.budget_at, now)


def _count_refusal(user: User, reason: str, now: datetime) -> None:
    """One more refused (or cut short) report of ``user`` for ``reason``; part of the caller's transaction."""
    table = ReportRefusal.__table__
    db.session.execute(dialect_insert(db.session)(ReportRefusal).values(
        user_id=user.id, reason=reason, count=1, last_at=now,
    ).on_conflict_do_update(index_elements=["user_id", "reason"],
                            set_={"count": table.c.count + 1, "last_at": now}))


def count_malformed_report(user: User) -> None:
    """Count a report refused for its shape (400) against the member who sent it; commits."""
    if user.is_authenticated:
        _count_refusal(user, "malformed", clock.now_utc())
        db.session.commit()


def refusals_of(user: User) -> list[ReportRefusal]:
    """The member's refused reports by reason, most frequent first."""
    return list(db.session.execute(select(ReportRefusal).where(ReportRefusal.user_id == user.id).order_by(
        ReportRefusal.count.desc(), ReportRefusal.reason)).scalars())


# ---------------------------------------------------------------- sessions and segment evidence

def _register_session(sid: str, user: User, *, now: datetime, lesson_id: int | None = None,
                      reading_id: int | None = None) -> PlaybackSession | None:
    """The session ``sid`` registered to ``user`` for this lesson/reading, or None if it belongs elsewhere."""
    session = db.session.get(PlaybackSession, sid)
    started = session is None
    if session is None:
        db.session.execute(dialect_insert(db.session)(PlaybackSession).values(
            id=sid, user_id=user.id, lesson_id=lesson_id, reading_id=reading_id, started_at=now, last_seq=-1,
            version=1).on_conflict_do_nothing(index_elements=["id"]))
        session = db.session.get(PlaybackSession, sid)
    if session is None or session.user_id != user.id or session.lesson_id != lesson_id \
            or session.reading_id != reading_id:
        return None
    if started:  # once per playback/reading session, never per report
        xapi.launched(user, lesson_id=lesson_id, reading_id=reading_id, session_id=sid, at=now)
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
        ).on_conflict_do_nothing(index_elements=["session_id", "asset_id", "segment_index"]))
        db.session.commit()
    except IntegrityError:  # pragma: no cover - ON CONFLICT covers the races we know of
        db.session.rollback()
        return False
    return True


class Evidence(NamedTuple):
    id: int
    start_s: float
    end_s: float
    delivered_at: datetime
    credited_s: float


def _deliveries(session_id: str, asset_id: int) -> list[Evidence]:
    """The session's evidence for the asset, earliest first."""
    return [Evidence(*row) for row in db.session.execute(select(
        SegmentDelivery.id, SegmentDelivery.start_s, SegmentDelivery.end_s, SegmentDelivery.delivered_at,
        SegmentDelivery.credited_s).where(
        SegmentDelivery.session_id == session_id, SegmentDelivery.asset_id == asset_id).order_by(
        SegmentDelivery.delivered_at, SegmentDelivery.id)).all()]


def _sequential_grant(rows: list[Evidence], new: intervals.Intervals, now: datetime, rate: float,
                      budget: float) -> tuple[intervals.Intervals, bool]:
    """:func:`_grant_plan`, and each delivery's ``credited_s`` updated by what it gave."""
    granted, bounded, added = _grant_plan(rows, new, now, rate, budget)
    _write_delivery_credit(added)
    return granted, bounded


def _write_delivery_credit(added: dict[int, float]) -> None:
    if added:
        table = cast(Table, SegmentDelivery.__table__)
        db.session.execute(
            table.update().where(table.c.id == bindparam("row_id")).values(
                credited_s=table.c.credited_s + bindparam("amount")),
            [{"row_id": row_id, "amount": round(amount, 3)} for row_id, amount in added.items()])


def _grant_plan(rows: list[Evidence], new: intervals.Intervals, now: datetime, rate: float,
                budget: float) -> tuple[intervals.Intervals, bool, dict[int, float]]:
    """What of ``new`` (media intervals, in order) the session may be credited: at most ``budget`` seconds;
    from each segment no more than ``(now − its delivery) × rate`` in all (wherever in it the player started:
    a resume mid-segment loses nothing); and — since one player plays one place at a time — for every moment
    ``d`` at which the session received evidence, all media ever credited from segments delivered at ``d`` or
    later stays within ``(now − d) × rate`` plus the allowance. Segments fetched all at once are thus not
    played all at once, however long the page sat idle before. Writes nothing: returns the granted
    intervals, whether these bounds (rather than ``budget``) cut the grant short, and what each delivery (by
    id) gave."""
    if not new or budget <= 0:
        return [], False, {}
    # own[j]: what the j-th delivery's segment itself may still give (the time since it arrived × rate);
    # slack[j]: room left under the constraint of the j-th delivery (those delivered at or after it).
    # A session's segments arrive in bursts: one subtraction per distinct delivery time.
    times: dict[datetime, float] = {}
    for row in rows:
        if row.delivered_at not in times:
            times[row.delivered_at] = max(0.0, (now - row.delivered_at).total_seconds()) * rate
    own = [times[row.delivered_at] - row.credited_s for row in rows]
    slack = [0.0] * len(rows)
    later = 0.0
    allowance = POLICY.report_allowance_s
    for j in range(len(rows) - 1, -1, -1):
        later += rows[j].credited_s
        slack[j] = times[rows[j].delivered_at] + allowance - later
    lo_all, hi_all = new[0][0], new[-1][1]
    touched = sorted((j for j, row in enumerate(rows) if row.end_s > lo_all and row.start_s < hi_all),
                     key=lambda j: rows[j].start_s)
    ends = [rows[j].end_s for j in touched]  # segments do not overlap: sorted by start is sorted by end
    granted: list[tuple[float, float]] = []
    added: dict[int, float] = {}
    bounded = False
    for a, b in new:
        if budget <= 1e-9:
            break
        for j in touched[bisect.bisect_right(ends, a):]:
            row = rows[j]
            if row.start_s >= b or budget <= 1e-9:
                break
            lo, hi = max(a, row.start_s), min(b, row.end_s)
            if hi <= lo:
                continue
            room = min(own[j], *slack[: j + 1])
            amount = min(hi - lo, room, budget)
            if amount < hi - lo - 1e-9 and room < budget:
                bounded = True
            if amount <= 1e-9:
                continue
            granted.append((lo, lo + amount))
            own[j] -= amount
            for k in range(j + 1):
                slack[k] -= amount
            added[row.id] = added.get(row.id, 0.0) + amount
            budget -= amount
    return intervals.normalise(granted), bounded, added


def _with_retries(user: User, apply: Callable[[datetime], R], now: datetime | None) -> R:
    """Apply a report and commit, again from a fresh read when a concurrent update got there first; a
    session of another member or item is counted as a refusal before its 409."""
    for _attempt in range(RETRIES):
        try:
            result = apply(now or clock.now_utc())
            db.session.commit()
            return result
        except (StaleDataError, IntegrityError):
            db.session.rollback()
        except Conflict as exc:
            db.session.rollback()
            if exc.code == "session_mismatch":
                _count_refusal(user, "session_mismatch", now or clock.now_utc())
                db.session.commit()
            raise
    raise Busy(_("服务器繁忙，请稍后重试。"), "busy")


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
    hours_credited: float = 0.0  # 学时 this report wrote to the ledger (the lesson's, or the course's)
    attention: str | None = None  # an open attention check the player must show and answer

    def as_dict(self) -> dict:
        return {"lesson_id": self.lesson_id, "accepted": self.accepted,
                "credited_seconds": round(self.credited_seconds, 3),
                "watched_seconds": round(self.watched_seconds, 3),
                "duration_seconds": self.duration_seconds, "coverage": round(self.coverage, 4),
                "position": round(self.position, 3), "completed": self.completed, "reason": self.reason,
                "hours_credited": self.hours_credited, "attention": self.attention}


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
             reason: str | None = None, hours: float = 0.0) -> LessonProgress:
    duration = lesson.duration_s or 0.0
    watched = row.watched_s if row else 0.0
    return LessonProgress(
        lesson_id=lesson.id, accepted=accepted, credited_seconds=credited, watched_seconds=watched,
        duration_seconds=duration, coverage=(watched / duration) if duration else 0.0,
        position=row.position_s if row else 0.0, completed=bool(row and row.completed_at), reason=reason,
        hours_credited=hours)


def lesson_progress(user: User, lesson: Lesson) -> LessonProgress:
    """Resume position, coverage and completion of ``lesson`` for ``user`` (any device)."""
    return _summary(lesson, _progress_row(user, lesson.id), accepted=True)


def report_lesson_progress(user: User, lesson: Lesson, report: LessonReport,
                           now: datetime | None = None) -> LessonProgress:
    """Apply one validated report (see the module docstring); commits. Retries on concurrent updates."""
    if lesson.asset is None or lesson.asset.status != "ready" or not lesson.duration_s:
        raise Conflict(_("该课程内容暂无可播放的视频。"), "not_playable")
    lean = lean_lesson_report(user.id, lesson.id, report, now or clock.now_utc())
    if lean is not None:
        return lean
    return _with_retries(user, lambda at: _apply_lesson_report(user, lesson, report, at), now)


# The lean path: the common report — a known session of this member and lesson, the next seq, visible, at an
# allowed rate, every claimed second backed by evidence and within every bound, not completing the lesson —
# in two reads and at most four writes, no ORM objects. Anything else (the first report, a refusal of any
# reason, attention checks, completion, a milestone, a concurrent update) returns None before committing and
# the full path below applies the report, so both apply the same rules.
#
# Its statements go through the driver's cursor on the session's connection (inside the session's
# transaction): SQLAlchemy's per-statement and per-row processing was most of a report's cost once the ORM
# was gone. What the column types do on the way in and out is done here: timestamps as the DateTime type
# stores them on SQLite (ISO text), JSON as text (and cast on PostgreSQL).
_LEAN_STATE = """
SELECT s.last_seq, s.credited_s, s.version,
       w.id, w.intervals, w.watched_s, w.completed_at, w.version,
       k.budget_s, k.budget_at, k.version,
       a.id, a.duration_s, a.segment_seconds, c.attention_checks
FROM playback_session s
JOIN lesson l ON l.id = {p}
JOIN media_asset a ON a.id = l.asset_id AND a.status = 'ready'
JOIN course c ON c.id = l.course_id
JOIN watch_progress w ON w.user_id = s.user_id AND w.lesson_id = l.id
JOIN study_clock k ON k.user_id = s.user_id
WHERE s.id = {p} AND s.user_id = {p} AND s.lesson_id = l.id AND s.reading_id IS NULL"""
# The session's evidence for the claimed media: the segments it overlaps, row by row; every other delivery only
# bounds the grant through its time and what it has credited (_grant_plan's per-moment bound), so those come
# summed per delivery time. A sum stands first among the rows of its time, where the bound is tightest: the
# plan's result is the same as over every row (segments fetched in a burst make one sum; a player fetching them
# one by one makes one sum each).
# The claimed media lies in a few segments: the rows are found by segment index — a range of the unique
# (session, asset, index) key, where a match on times would read every row of the session — taking a segment
# more on each side of ``media time / segment length``, since the pipeline cuts each segment at the first
# keyframe on or after a multiple of that length. A claim those rows do not cover goes to the full path, which
# reads them all. Every row of the session is in exactly one of the two reads.
_LEAN_TOUCHED = ("SELECT id, start_s, end_s, delivered_at, credited_s FROM segment_delivery "
                 "WHERE session_id = {p} AND asset_id = {p} AND segment_index BETWEEN {p} AND {p}")
_LEAN_OTHERS = ("SELECT delivered_at, SUM(credited_s) FROM segment_delivery "
                "WHERE session_id = {p} AND asset_id = {p} AND segment_index NOT BETWEEN {p} AND {p} "
                "AND delivered_at >= {p} GROUP BY delivered_at")
_LONGEST_LOOK_BACK_S = 10.0 ** 8  # about three years: every delivery there is
_LEAN_DELIVERY_CREDIT = "UPDATE segment_delivery SET credited_s = credited_s + {p} WHERE id = {p}"
_LEAN_SESSION = ("UPDATE playback_session SET credited_s = {p}, last_seq = {p}, last_report_at = {p}, "
                 "version = version + 1 WHERE id = {p} AND version = {p}")
_LEAN_PROGRESS = ("UPDATE watch_progress SET intervals = {json}, watched_s = {p}, position_s = {p}, asset_id = {p}, "
                  "updated_at = CURRENT_TIMESTAMP, version = version + 1 WHERE id = {p} AND version = {p}")
_LEAN_CLOCK = ("UPDATE study_clock SET budget_s = {p}, budget_at = {p}, version = version + 1 "
               "WHERE user_id = {p} AND version = {p}")


class _LeanSql(NamedTuple):
    state: str
    touched: str
    others: str
    delivery_credit: str
    session: str
    progress: str
    clock: str
    sqlite: bool


_LEAN_SQL: dict[str, _LeanSql] = {}
_SQLITE_WRITER = threading.Lock()
# Each thread's own database connection for the lean path: taken from the engine once — its connect-time
# settings applied, then detached from the pool — and kept while the thread lives. The ORM session's checkout,
# transaction bookkeeping and commit events cost more than the four statements themselves, and none of them
# apply: the lean path writes no ORM object.
_LEAN_CONNECTION = threading.local()


class _HeldConnection:
    """A thread's lean-path connection, of one engine in one process; closed when the thread ends."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.pid = engine, os.getpid()
        raw = engine.raw_connection()
        raw.detach()
        self.dbapi = raw.dbapi_connection

    def close(self) -> None:
        dbapi, self.dbapi = self.dbapi, None
        if dbapi is not None and self.pid == os.getpid():  # never a forked parent's socket
            with contextlib.suppress(Exception):  # already broken: nothing more to release
                dbapi.close()

    __del__ = close


def _lean_connection(engine: Any) -> Any:
    held = getattr(_LEAN_CONNECTION, "held", None)
    if held is None or held.engine is not engine or held.pid != os.getpid() or held.dbapi is None:
        if held is not None:
            held.close()  # another app's engine (tests): one connection per thread at a time
        held = _LEAN_CONNECTION.held = _HeldConnection(engine)
    return held.dbapi


def _drop_lean_connection() -> None:
    held = getattr(_LEAN_CONNECTION, "held", None)
    _LEAN_CONNECTION.held = None
    if held is not None:
        held.close()


def _lean_sql(conn: Any) -> _LeanSql:
    dialect = conn.dialect.name
    found = _LEAN_SQL.get(dialect)
    if found is None:
        sqlite = dialect == "sqlite"
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        fill = {"p": mark, "json": mark if sqlite else f"CAST({mark} AS JSON)"}
        found = _LEAN_SQL[dialect] = _LeanSql(
            state=_LEAN_STATE.format(**fill), touched=_LEAN_TOUCHED.format(**fill),
            others=_LEAN_OTHERS.format(**fill), delivery_credit=_LEAN_DELIVERY_CREDIT.format(**fill),
            session=_LEAN_SESSION.format(**fill), progress=_LEAN_PROGRESS.format(**fill),
            clock=_LEAN_CLOCK.format(**fill), sqlite=sqlite)
    return found


def _when(value: datetime | str) -> datetime:
    """A timestamp as the driver returns it (SQLite: the DateTime type's ISO text)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _stored_when(value: datetime, sqlite: bool) -> datetime | str:
    """A naive UTC time as the DateTime type stores it on SQLite ("%Y-%m-%d %H:%M:%S.%f", written faster)."""
    return value.isoformat(" ", "microseconds") if sqlite else value


def lean_lesson_report(user_id: int, lesson_id: int, report: LessonReport, now: datetime) -> LessonProgress | None:
    """Apply ``report`` of member ``user_id`` (who may watch the lesson: the caller's check) on the lean path
    and commit, or return None — having written nothing — for the full path (see above)."""
    engine = db.engine
    sql = _lean_sql(engine)
    conn = _lean_connection(engine)
    cursor = conn.cursor()
    try:
        result = _lean_apply(cursor, sql, user_id, lesson_id, report, now)
        cursor.close()
        if result is None:
            conn.rollback()  # the reads' transaction (PostgreSQL), or the writes a concurrent report got before
        return result
    except BaseException:
        # Closed with its cursor and rolled back; a broken connection is not reused. (Closing the cursor
        # first would fail on a closed SQLite connection and hide the error raised here.)
        _drop_lean_connection()
        raise


def _lean_apply(cursor: Any, sql: _LeanSql, user_id: int, lesson_id: int, report: LessonReport,
                now: datetime) -> LessonProgress | None:
    sid = report.playback_session
    cursor.execute(sql.state, (lesson_id, sid, user_id))
    state = cursor.fetchone()
    rate = max_rate()
    if state is None:
        return None
    (last_seq, s_credited, s_version, w_id, stored_intervals, watched_before, completed_at, w_version,
     budget_s, budget_at, k_version, asset_id, duration_s, segment_s, attention_checks) = state
    if attention_checks or not duration_s or not segment_s or report.seq <= last_seq or not report.visible \
            or report.rate > rate + 1e-9:
        return None
    if isinstance(stored_intervals, str):
        stored_intervals = json.loads(stored_intervals)
    duration = float(duration_s)
    watched = intervals.normalise(stored_intervals or [])
    claimed = intervals.clip(intervals.normalise(report.intervals), 0.0, duration)
    new = intervals.subtract(claimed, watched)
    rows: list[Evidence] = []
    if new:
        wanted = intervals.length(new)
        lo, hi = new[0][0], new[-1][1]
        first, last = int(lo // segment_s) - 1, int(hi // segment_s) + 1
        cursor.execute(sql.touched, (sid, asset_id, first, last))
        touched = [Evidence(r[0], r[1], r[2], _when(r[3]), r[4]) for r in cursor.fetchall()]
        new = intervals.intersect(new, intervals.normalise([(r.start_s, r.end_s) for r in touched]))
        if intervals.length(new) + 1e-6 < wanted:
            return None  # "evidence"
        # Only deliveries since ``since`` can bound this grant: an earlier one's moment allows
        # (now − its time) × rate + the allowance, more than the session has ever been credited (which
        # includes all its segments' credit) plus this claim; nor does its credit enter the bound of a later
        # moment. (The allowance left out here covers the rounding of each delivery's credit.) A session
        # watched straight through thus reads the deliveries of the last half of its time, not all of them.
        since = now - timedelta(seconds=min((s_credited + wanted) / rate, _LONGEST_LOOK_BACK_S))
        cursor.execute(sql.others, (sid, asset_id, first, last, _stored_when(since, sql.sqlite)))
        # A sum has no media of its own (it never overlaps a claim and is never written) and stands first
        # among the rows of its time.
        ordered = [((r.delivered_at, 1, r.id), r) for r in touched]
        for at, credited in cursor.fetchall():
            when = _when(at)
            ordered.append(((when, 0, 0), Evidence(-1, -1.0, -1.0, when, float(credited or 0.0))))
        ordered.sort(key=lambda item: item[0])
        rows = [row for _key, row in ordered]
    budget_at = _when(budget_at)
    available = min(max(budget_s, 0.0), POLICY.report_allowance_s) + max(0.0, (now - budget_at).total_seconds()) * rate
    granted, _bounded, per_delivery = _grant_plan(rows, new, now, rate, available)
    added = intervals.length(granted)
    if added + 1e-6 < intervals.length(new):
        return None  # "early" or "budget"
    watched_s = watched_before
    if granted:
        watched = intervals.union(watched, granted)
        watched_s = round(intervals.length(watched), 3)
    if completed_at is None and watched_s >= POLICY.completion_coverage * duration - 1e-6:
        return None  # completion: the ledger entry is the full path's
    if any(watched_before < mark * duration <= watched_s for mark in policy.XAPI.progress_milestones):
        return None  # a learning-record milestone: the full path records it
    position = min(report.position, duration)
    stored = sql.sqlite
    writes: list[tuple[str, tuple]] = [
        (sql.session, (round(s_credited + added, 3), report.seq, _stored_when(now, stored), sid, s_version)),
        (sql.progress, (json.dumps(intervals.to_json(watched) if granted else stored_intervals), watched_s,
                        position, asset_id, w_id, w_version)),
    ]
    if added > 0:
        writes.append((sql.clock, (min(available - added, POLICY.report_allowance_s),
                                   _stored_when(max(budget_at, now), stored), user_id, k_version)))
    credit = [(round(amount, 3), row_id) for row_id, amount in per_delivery.items()]
    if stored:
        # SQLite has one writer: this process's threads queue here, woken the moment the lock is free, rather
        # than in SQLite's busy handler, which sleeps in steps of milliseconds for a write of a fraction of one.
        with _SQLITE_WRITER:
            done = _lean_write(cursor, sql, credit, writes)
    else:
        done = _lean_write(cursor, sql, credit, writes)
    if not done:
        return None
    return LessonProgress(lesson_id=lesson_id, accepted=True, credited_seconds=added, watched_seconds=watched_s,
                          duration_seconds=duration, coverage=watched_s / duration, position=position,
                          completed=completed_at is not None)


def _lean_write(cursor: Any, sql: _LeanSql, credit: list[tuple[float, int]], writes: list[tuple[str, tuple]]) -> bool:
    """The versioned updates and the commit; False (rolled back by the caller) when a concurrent report got there
    first — the full path then retries from a fresh read."""
    if len(credit) == 1:
        cursor.execute(sql.delivery_credit, credit[0])  # the usual case, at half executemany's cost
    elif credit:
        cursor.executemany(sql.delivery_credit, credit)
    for statement, params in writes:
        cursor.execute(statement, params)
        if cursor.rowcount != 1:
            return False  # the caller rolls back
    cursor.connection.commit()
    return True


def _apply_lesson_report(user: User, lesson: Lesson, report: LessonReport, now: datetime) -> LessonProgress:
    asset_id, duration_s = lesson.asset_id, lesson.duration_s
    assert asset_id is not None and duration_s is not None, "report_lesson_progress lets only playable lessons in"
    session = _register_session(report.playback_session, user, now=now, lesson_id=lesson.id)
    if session is None:
        raise Conflict(_("该播放会话不属于此课程。"), "session_mismatch")
    row = _progress_row(user, lesson.id)
    if row is None:
        row = WatchProgress(user_id=user.id, lesson_id=lesson.id, asset_id=lesson.asset_id, intervals=[],
                            watched_s=0.0, position_s=0.0)
        db.session.add(row)
        db.session.flush()
    if report.seq <= session.last_seq:
        _count_refusal(user, "duplicate", now)
        return _summary(lesson, row, accepted=False, reason="duplicate")

    duration = float(duration_s)
    rate = max_rate()
    watched = intervals.normalise(row.intervals or [])
    reason = None
    new: intervals.Intervals = []
    rows: list[Evidence] = []
    claimed = intervals.clip(intervals.normalise(report.intervals), 0.0, duration)
    checks = bool(lesson.course.attention_checks)
    if checks and row.attention_token:
        reason = "attention"  # a prompt is open: nothing more until it is answered
    elif not report.visible:
        reason = "hidden"
    elif report.rate > rate + 1e-9:
        reason = "rate"
    else:
        new = intervals.subtract(claimed, watched)
        if new:
            wanted = intervals.length(new)
            rows = _deliveries(session.id, asset_id)
            new = intervals.intersect(new, intervals.normalise([(r.start_s, r.end_s) for r in rows]))
            if intervals.length(new) + 1e-6 < wanted:
                reason = "evidence"
    study_clock = _clock(user, session.started_at)
    available = available_seconds(study_clock, now, rate)
    if checks and row.attention_answered_at is not None:
        # Since the last answer, no more than the time since it allows (the time away is not claimable).
        since = max(0.0, (now - row.attention_answered_at).total_seconds()) * rate + POLICY.report_allowance_s
        available = min(available, max(0.0, since - row.attention_credited_s))
    granted, bounded = _sequential_grant(rows, new, now, rate, available)
    added = intervals.length(granted)
    if added + 1e-6 < intervals.length(new):
        reason = "early" if bounded else "budget"
    if checks and row.attention_answered_at is not None:
        row.attention_credited_s = round(row.attention_credited_s + intervals.length(granted), 3)
    if granted:
        watched_before = row.watched_s
        watched = intervals.union(watched, granted)
        row.intervals = intervals.to_json(watched)
        row.watched_s = round(intervals.length(watched), 3)
        xapi.lesson_progressed(user, lesson, watched_before, row.watched_s, now)  # a milestone crossed, or nothing
    _spend(study_clock, available, added, now)
    session.credited_s = round(session.credited_s + added, 3)
    row.position_s = min(report.position, duration)
    row.asset_id = lesson.asset_id
    session.last_seq = report.seq
    session.last_report_at = now
    if checks:
        _maybe_ask_for_attention(row, now)
    if reason is not None and intervals.length(claimed) > added + 1e-6:
        _count_refusal(user, reason, now)
    hours = 0.0
    if row.completed_at is None and row.watched_s >= POLICY.completion_coverage * duration - 1e-6:
        row.completed_at = now
        xapi.lesson_completed(user, lesson, row.watched_s, now)
        db.session.flush()
        hours = _credit_completion(user, lesson, now)
    db.session.flush()
    summary = _summary(lesson, row, accepted=True, credited=added, reason=reason, hours=hours)
    return replace(summary, attention=row.attention_token if checks else None)


def _maybe_ask_for_attention(row: WatchProgress, now: datetime) -> None:
    """Open a prompt once the member has watched the lesson's next random stretch (policy), counted on the
    lesson's watched time: a new device or playback session does not start the count again."""
    lo, hi = policy.ATTENTION_CHECK_AFTER_S
    if row.attention_due_s is None:
        row.attention_due_s = round(row.watched_s + _random.uniform(lo, hi), 3)
    if row.attention_token is None and row.watched_s >= row.attention_due_s:
        row.attention_token = secrets.token_hex(8)
        row.attention_at = now


def answer_attention(user: User, lesson: Lesson, token: str, now: datetime | None = None) -> None:
    """The member answered the lesson's open prompt: crediting resumes — for playing from now on only — and
    the next prompt is drawn."""
    now = now or clock.now_utc()
    row = _progress_row(user, lesson.id)
    if row is None or not row.attention_token or not secrets.compare_digest(row.attention_token, token):
        raise Conflict(_("该确认已失效，请以最新的提示为准。"), "attention_mismatch")
    lo, hi = policy.ATTENTION_CHECK_AFTER_S
    row.attention_token = None
    row.attention_answered_at = now
    row.attention_credited_s = 0.0
    row.attention_due_s = round(row.watched_s + _random.uniform(lo, hi), 3)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Busy(_("服务器繁忙，请稍后重试。"), "busy") from None


def _credit_completion(user: User, lesson: Lesson, now: datetime) -> float:
    """Credit a completed lesson (or, with declared hours, the course once all its lessons are complete);
    returns the 学时 written, 0 when nothing was."""
    course: Course = lesson.course
    if course.declared_hours:
        playable = [les.id for les in course.lessons if les.duration_s]
        done = db.session.execute(select(func.count()).select_from(WatchProgress).where(
            WatchProgress.user_id == user.id, WatchProgress.lesson_id.in_(playable),
            WatchProgress.completed_at.is_not(None))).scalar_one()
        if playable and done >= len(playable) and ledger.credit(
                user, kind="course", source_kind="course", source_id=course.id, hours=course.declared_hours,
                title=course.title, category=course.category, innovative_theory=course.innovative_theory,
                course_id=course.id, credited_on=clock.site_date(now)):
            return round(course.declared_hours, 2)
        return 0.0
    hours = ledger.hours_for_seconds(lesson.duration_s or 0.0)
    added = ledger.credit(user, kind="lesson", source_kind="lesson", source_id=lesson.id, hours=hours,
                          title=f"{course.title} · {lesson.title}", category=course.category,
                          innovative_theory=course.innovative_theory, course_id=course.id,
                          credited_on=clock.site_date(now))
    return hours if added else 0.0


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


def reader_credit(user: User, reading: Reading) -> dict | None:
    """The member's reading-time state as the reader shows it (the reader page and ``/api/v1/readings/<id>``),
    or None when no course the member may open carries the reading (then nothing can be credited)."""
    try:
        reading_course_for(user, reading.id)
    except NotFound:
        return None
    state = reading_progress(user, reading)
    return {"progress_url": f"/api/v1/readings/{reading.id}/progress",
            "read_minutes": int(state.active_seconds // 60),
            "required_minutes": max(1, math.ceil(state.required_seconds / 60)),
            "hours": ledger.hours_for_seconds(reading.estimated_minutes * 60),
            "earns": reading.estimated_minutes >= POLICY.reading_min_minutes,
            "completed": state.completed, "idle_s": policy.READER_IDLE_S,
            "interval_s": policy.READER_REPORT_INTERVAL_S}


def report_reading_progress(user: User, reading: Reading, course: Course, report: ReadingReport,
                            now: datetime | None = None) -> ReadingStatus:
    """Add active reading time: visible pages only, at most one second per wall-clock second (plus the
    allowance) across devices, at most the reading's estimate in total. Reaching the estimate credits the
    reading once (its estimated minutes in 学时). Commits; retries on concurrent updates."""
    return _with_retries(user, lambda at: _apply_reading_report(user, reading, course, report, at), now)


def _apply_reading_report(user: User, reading: Reading, course: Course, report: ReadingReport,
                          now: datetime) -> ReadingStatus:
    session = _register_session(report.playback_session, user, now=now, reading_id=reading.id)
    if session is None:
        raise Conflict(_("该阅读会话不属于此材料。"), "session_mismatch")
    row = _reading_row(user, reading.id)
    if row is None:
        row = ReadingProgress(user_id=user.id, reading_id=reading.id, course_id=course.id, active_s=0.0,
                              position=0.0)
        db.session.add(row)
        db.session.flush()
    if report.seq <= session.last_seq:
        _count_refusal(user, "duplicate", now)
        return _reading_summary(reading, row, accepted=False, reason="duplicate")
    required = _required_seconds(reading)
    reason = None
    wanted = report.active_seconds if report.visible else 0.0
    if not report.visible:
        reason = "hidden"
    room = max(0.0, required - row.active_s)
    # A reading session credits no more than it has been open (plus the allowance); all of the member's
    # sessions share the clock, a reading second costing what a wall-clock second brings (max rate).
    session_room = max(0.0, max(0.0, (now - session.started_at).total_seconds()) + POLICY.report_allowance_s
                       - session.credited_s)
    rate = max_rate()
    study_clock = _clock(user, session.started_at)
    available = available_seconds(study_clock, now, rate) / rate  # in reading seconds
    allowed = min(wanted, room, session_room, available)
    if allowed + 1e-6 < min(wanted, room):
        reason = "early" if session_room < available else "budget"
    # Credited in whole milliseconds, rounded down: the stored sums are kept to three decimals, and rounding
    # each report's share to the nearest gave up to half a millisecond more than the clock was charged, every
    # report (two thousand reports of 1.5 ms were credited 3.037 s).
    added = math.floor(allowed * 1000 + 1e-6) / 1000
    row.active_s = round(row.active_s + added, 3)
    _spend(study_clock, available * rate, added * rate, now)
    session.credited_s = round(session.credited_s + added, 3)
    row.position = report.position
    session.last_seq = report.seq
    session.last_report_at = now
    if reason is not None and report.active_seconds > allowed + 1e-6:
        _count_refusal(user, reason, now)
    if row.completed_at is None and reading.estimated_minutes >= POLICY.reading_min_minutes \
            and row.active_s >= required - 1e-6:
        row.completed_at = now
        xapi.reading_completed(user, reading, course, row.active_s, now)
        ledger.credit(user, kind="reading", source_kind="reading", source_id=reading.id,
                      hours=ledger.hours_for_seconds(reading.estimated_minutes * 60), title=reading.title,
                      category=course.category, innovative_theory=course.innovative_theory, course_id=course.id,
                      credited_on=clock.site_date(now))
    db.session.flush()
    return _reading_summary(reading, row, accepted=True, credited=added, reason=reason)
