"""Learning records as xAPI statements: written to the outbox with their event, sent to the LRS later.

The event's own service calls one function here inside its transaction (a lesson completed, a quiz graded,
attendance marked, a credit written, a playback or reading session started); it adds one outbox row and runs
no query, and the caller's commit writes event and statement together, or neither. Its statement id (a UUID)
is fixed then, so however often the statement is sent, the LRS stores it once.

:func:`flush` (the periodic job ``flush_statements``, or ``elearn xapi flush``) sends the due statements in
batches of ``XAPI.batch_size``. A batch the LRS refuses for its content is sent again one statement at a time,
so one bad statement is marked failed with the LRS's answer and the others go through; when the LRS is down,
slow or refuses our credentials, the statements stay pending and are tried again after a back-off that doubles
with each attempt (``XAPI.backoff_*``). Nothing is ever dropped: a failed statement stays in the outbox, and the
outbox is also what ``elearn xapi export`` writes, with or without an LRS.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from elearn import clock
from elearn.courses.models import Course, Lesson
from elearn.extensions import db, rowcount
from elearn.orgs.models import User
from elearn.policy import XAPI
from elearn.quiz.models import Quiz, QuizAttempt
from elearn.readings.models import Reading
from elearn.training.models import GroupSession
from elearn.xapi import statements
from elearn.xapi.lrs import NOT_NOW, STORED, LrsClient
from elearn.xapi.models import FAILED, PENDING, SENT, STATUSES, XapiStatement


def home_page() -> str:
    """The site as xAPI knows it: the accounts' homePage and the root of every activity id."""
    return current_app.config["ELEARN_XAPI_HOMEPAGE"]


def lrs_client() -> LrsClient | None:
    """The configured LRS, or None when statements only go to the outbox (``ELEARN_LRS_URL`` empty)."""
    url = current_app.config["ELEARN_LRS_URL"]
    if not url:
        return None
    return LrsClient(url, current_app.config["ELEARN_LRS_AUTH"], float(current_app.config["ELEARN_LRS_TIMEOUT_S"]))


# ---------------------------------------------------------------- recording (inside the event's transaction)

def record(user: User, verb: str, *, kind: str, object_id: int | str, name: str | None = None,
           result: dict[str, Any] | None = None, parent: tuple[str, int, str | None] | None = None,
           registration: str | None = None, extensions: dict[str, Any] | None = None,
           at: datetime | None = None) -> XapiStatement:
    """Add ``user``'s statement ``verb`` about the ``kind`` object ``object_id`` to the outbox (one insert at
    the caller's flush or commit; no query). ``parent``: (kind, id, name) of the activity it belongs to."""
    at = at or clock.now_utc()
    home = home_page()
    ifi = current_app.config["ELEARN_XAPI_ACTOR"]
    statement_id = str(uuid.uuid4())
    body = statements.statement(
        statement_id=statement_id,
        actor=statements.actor(member_id=user.id, email=user.email if ifi == "mbox_sha1sum" else None, ifi=ifi,
                               home_page=home),
        verb=verb, obj=statements.activity(home, kind, object_id, name), moment=at, home_page=home, result=result,
        parent=statements.activity(home, *parent) if parent is not None else None,
        registration=registration if registration and _is_uuid(registration) else None, extensions=extensions)
    row = XapiStatement(statement_id=statement_id, user_id=user.id, verb=verb, statement=body, created_at=at,
                        status=PENDING, attempts=0, next_attempt_at=at)
    db.session.add(row)
    return row


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def launched(user: User, *, lesson_id: int | None, reading_id: int | None, session_id: str,
             at: datetime) -> None:
    """A playback (lesson) or reading session started: the session's id is the statement's registration."""
    if lesson_id is not None:
        record(user, "launched", kind="lesson", object_id=lesson_id, registration=session_id, at=at)
    elif reading_id is not None:
        record(user, "launched", kind="reading", object_id=reading_id, registration=session_id, at=at)


def lesson_progressed(user: User, lesson: Lesson, before_s: float, after_s: float, at: datetime) -> None:
    """The member's watched share of ``lesson`` went from ``before_s`` to ``after_s`` seconds: a statement when
    that crossed a milestone (``XAPI.progress_milestones``), none for the reports in between."""
    duration = lesson.duration_s or 0.0
    if duration <= 0:
        return
    crossed = [mark for mark in XAPI.progress_milestones if before_s < mark * duration <= after_s]
    if crossed:  # one report crossing several milestones says the furthest
        record(user, "progressed", kind="lesson", object_id=lesson.id, name=lesson.title,
               parent=("course", lesson.course_id, None), at=at,
               result={"completion": False, "duration": statements.duration(after_s),
                       "extensions": {statements.extension(home_page(), "progress"): max(crossed)}})


def lesson_completed(user: User, lesson: Lesson, watched_s: float, at: datetime) -> None:
    """The member completed ``lesson`` (coverage reached the threshold)."""
    duration = lesson.duration_s or 0.0
    record(user, "completed", kind="lesson", object_id=lesson.id, name=lesson.title,
           parent=("course", lesson.course_id, None), at=at,
           result={"completion": True, "duration": statements.duration(watched_s),
                   "extensions": {statements.extension(home_page(), "progress"):
                                  round(min(1.0, watched_s / duration), 4) if duration else 1.0}})


def reading_completed(user: User, reading: Reading, course: Course, active_s: float, at: datetime) -> None:
    """The member read ``reading`` (through ``course``) for its required time."""
    record(user, "completed", kind="reading", object_id=reading.id, name=reading.title,
           parent=("course", course.id, course.title), at=at,
           result={"completion": True, "duration": statements.duration(active_s)})


def quiz_graded(user: User, quiz: Quiz, attempt: QuizAttempt) -> None:
    """An attempt of ``quiz`` was graded (or closed as expired): passed or failed, with its score."""
    at = attempt.submitted_at or clock.now_utc()
    percent = attempt.score_percent or 0.0
    record(user, "passed" if attempt.passed else "failed", kind="quiz", object_id=quiz.id, name=quiz.title,
           parent=("course", quiz.course_id, None), at=at,
           result={"score": statements.score(percent), "success": bool(attempt.passed), "completion": True,
                   "duration": statements.duration(max(0.0, (at - attempt.started_at).total_seconds()))},
           extensions={"attempt": attempt.number, "expired": bool(attempt.expired)})


def attended(user: User, session: GroupSession, lesson: Lesson, at: datetime) -> None:
    """The member was marked present at a group video session (视频集中培训) playing ``lesson``."""
    record(user, "attended", kind="group_session", object_id=session.id, name=lesson.title,
           parent=("lesson", lesson.id, lesson.title), at=at,
           result={"completion": True, "duration": statements.duration(lesson.duration_s or 0.0)},
           extensions={"organisation": session.organisation_id})


def credited(values: dict[str, Any]) -> None:
    """A ledger row was written (``values`` as inserted, elearn.ledger.services): the 学时 it credits as a
    statement "earned" about its source; a correction's negative hours too, so an LRS's sums stay right."""
    user = db.session.get(User, values["user_id"])  # the ledger's caller holds the member: no query
    if user is None:  # pragma: no cover - the ledger's foreign key
        return
    kind = values["source_kind"]
    home = home_page()
    record(user, "earned", kind=kind, object_id=values["source_id"], name=values["title"],
           parent=("course", values["course_id"], None) if values.get("course_id") and kind != "course" else None,
           result={"completion": True,
                   "extensions": {statements.extension(home, "study-hours"): values["hours"]}},
           extensions={"credit-kind": values["kind"], "credited-on": values["credited_on"].isoformat(),
                       "innovative-theory": bool(values["innovative_theory"]), "category": values["category"] or ""})


# ---------------------------------------------------------------- delivery

@dataclass
class FlushResult:
    """What one flush did: statements stored by the LRS, refused by it, and left for a later attempt."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0


def backoff(attempts: int) -> timedelta:
    """How long a statement waits after its ``attempts``-th unsuccessful attempt."""
    return timedelta(seconds=min(XAPI.backoff_max_s, XAPI.backoff_base_s * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class _Claimed:
    """A statement taken for one send: what is needed after the claim's commit, without reading the row again."""

    id: int
    attempts: int
    statement: dict[str, Any]


def _claim(now: datetime, limit: int) -> list[_Claimed]:
    """The due pending statements, oldest first, withheld from other workers for the length of a send
    (``XAPI.lease_s``: a worker that dies meanwhile leaves them due again soon after); commits."""
    stmt = (select(XapiStatement.id, XapiStatement.attempts, XapiStatement.statement)
            .where(XapiStatement.status == PENDING, XapiStatement.next_attempt_at <= now)
            .order_by(XapiStatement.next_attempt_at, XapiStatement.id).limit(limit))
    # Another worker flushing at the same time takes other rows (PostgreSQL; SQLite has one writer anyway).
    claimed = [_Claimed(*row) for row in db.session.execute(stmt.with_for_update(skip_locked=True)).tuples()]
    if claimed:
        db.session.execute(update(XapiStatement).where(XapiStatement.id.in_([c.id for c in claimed])).values(
            next_attempt_at=now + timedelta(seconds=XAPI.lease_s)))
    db.session.commit()
    return claimed


def _mark_sent(claimed: list[_Claimed], now: datetime) -> None:
    db.session.execute(update(XapiStatement).where(XapiStatement.id.in_([c.id for c in claimed])).values(
        status=SENT, sent_at=now, attempts=XapiStatement.attempts + 1, last_error=None))


def _defer(claimed: list[_Claimed], now: datetime, error: str | None) -> None:
    for attempts in sorted({c.attempts for c in claimed}):
        ids = [c.id for c in claimed if c.attempts == attempts]
        db.session.execute(update(XapiStatement).where(XapiStatement.id.in_(ids)).values(
            attempts=attempts + 1, next_attempt_at=now + backoff(attempts + 1), last_error=error))


def _mark_failed(claimed: _Claimed, error: str | None) -> None:
    db.session.execute(update(XapiStatement).where(XapiStatement.id == claimed.id).values(
        status=FAILED, attempts=claimed.attempts + 1, last_error=error))


def flush(now: datetime | None = None) -> FlushResult:
    """Send the due statements to the LRS in batches; commits after each batch. Nothing without an LRS."""
    client = lrs_client()
    result = FlushResult()
    if client is None:
        return result
    for _batch in range(XAPI.max_batches_per_flush):
        at = now or clock.now_utc()
        claimed = _claim(at, XAPI.batch_size)
        if not claimed:
            break
        answer = client.post([c.statement for c in claimed])
        stopped = False
        if answer.outcome == STORED:
            _mark_sent(claimed, at)
            result.sent += len(claimed)
        elif answer.outcome == NOT_NOW:
            _defer(claimed, at, answer.error)
            result.deferred += len(claimed)
            stopped = True  # the LRS is not taking statements now: the rest waits for the next run
        else:
            stopped = _one_by_one(client, claimed, at, result)
        db.session.commit()
        if stopped:
            break
    return result


def _one_by_one(client: LrsClient, claimed: list[_Claimed], at: datetime, result: FlushResult) -> bool:
    """A batch was refused: send its statements alone so that only the bad ones fail. True when the LRS
    stopped answering meanwhile (the rest are deferred)."""
    for index, one in enumerate(claimed):
        answer = client.post([one.statement])
        if answer.outcome == STORED:
            _mark_sent([one], at)
            result.sent += 1
        elif answer.outcome == NOT_NOW:
            _defer(claimed[index:], at, answer.error)
            result.deferred += len(claimed) - index
            return True
        else:
            _mark_failed(one, answer.error)
            result.failed += 1
    return False


def retry_failed() -> int:
    """Put every failed statement back in line (after the LRS or the statements' cause was fixed); commits.
    Returns how many."""
    count = rowcount(db.session.execute(update(XapiStatement).where(XapiStatement.status == FAILED).values(
        status=PENDING, next_attempt_at=clock.now_utc())))
    db.session.commit()
    return count


def status_counts() -> dict[str, int]:
    """How many statements the outbox holds in each state."""
    found: dict[str, int] = dict(db.session.execute(
        select(XapiStatement.status, func.count()).group_by(XapiStatement.status)).tuples().all())
    return {status: found.get(status, 0) for status in STATUSES}


def failures(limit: int = 20) -> list[XapiStatement]:
    """The most recent statements the LRS refused, with its answer in ``last_error``."""
    return list(db.session.execute(select(XapiStatement).where(XapiStatement.status == FAILED)
                                   .order_by(XapiStatement.id.desc()).limit(limit)).scalars())


# ---------------------------------------------------------------- export

def export_lines(start: date, end: date) -> Iterator[str]:
    """The statements of site-local days ``start`` … ``end`` (inclusive), oldest first, as JSON lines, whatever
    their delivery state (the outbox is the record)."""
    lo, hi = clock.site_day_bounds(start)[0], clock.site_day_bounds(end)[1]
    stmt = (select(XapiStatement.statement).where(XapiStatement.created_at >= lo, XapiStatement.created_at < hi)
            .order_by(XapiStatement.created_at, XapiStatement.id).execution_options(yield_per=500))
    for body in db.session.execute(stmt).scalars():
        yield json.dumps(body, ensure_ascii=False, sort_keys=True)
