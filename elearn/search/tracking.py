"""Index writes in the content's own transaction, for the PostgreSQL backend.

A session hook notes, after each flush, which courses, lessons and readings an ORM change touched (their text,
their subtitles, the courses a reading is attached to, the series and sectors a course is published in), and
writes their documents just before the transaction commits, so the documents are visible exactly when the
content is, on every web node, and a rolled-back change leaves no document behind. The whoosh backend is
written by the queued jobs instead (one writer per index), which the domains enqueue after committing.
"""
from __future__ import annotations

from typing import Any

from flask import has_app_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from elearn.courses.models import Course, Lesson, Series, SeriesCourse, SeriesTarget
from elearn.media.models import Subtitle
from elearn.readings.models import CourseReading, Reading
from elearn.search import services as search

_PENDING = "search_pending"


def _on_postgres(session: Session) -> bool:
    # Outside an application there is no configuration to say which backend holds the documents.
    return has_app_context() and search.uses_database(session)


def _note(pending: dict[str, set[int]], obj: Any, gone: bool) -> None:
    if isinstance(obj, Course):
        pending["courses"].add(obj.id)
    elif isinstance(obj, Lesson):
        # A lesson removed or moved is rewritten with its course (replace by course id drops what is gone).
        pending["courses" if gone else "lessons"].add(obj.course_id if gone else obj.id)
        if not gone:
            history = inspect(obj).attrs.course_id.history
            pending["courses"].update(c for c in history.deleted if c is not None)
    elif isinstance(obj, Subtitle):
        pending["lessons"].add(obj.lesson_id)
    elif isinstance(obj, Reading):
        pending["readings"].add(obj.id)
    elif isinstance(obj, CourseReading):
        pending["readings"].add(obj.reading_id)
    elif isinstance(obj, SeriesCourse):
        pending["audiences"].add(obj.course_id)
        pending["series"].add(obj.series_id)
    elif isinstance(obj, SeriesTarget):
        pending["series"].add(obj.series_id)
    elif isinstance(obj, Series):
        pending["series"].add(obj.id)


def _note_changes(session: Session, flush_context: Any) -> None:
    """After each flush: remember what the flushed changes touched (nothing is written yet)."""
    if not _on_postgres(session):
        return
    pending = session.info.setdefault(_PENDING, {k: set() for k in
                                                 ("courses", "lessons", "readings", "audiences", "series")})
    for state, (isdelete, listonly) in flush_context.states.items():
        if not listonly and state.obj() is not None:
            _note(pending, state.obj(), isdelete)


def _write_before_commit(session: Session) -> None:
    """Just before commit: write the documents of what this transaction touched, in the transaction."""
    if not _on_postgres(session):
        return
    session.flush()
    pending = session.info.pop(_PENDING, None)
    if not pending or not any(pending.values()):
        return
    audiences = set(pending["audiences"])
    if pending["series"]:
        audiences.update(session.execute(select(SeriesCourse.course_id)
                                          .where(SeriesCourse.series_id.in_(pending["series"]))).scalars())
    for course_id in sorted(audiences - pending["courses"]):
        pending["readings"].update(search.attached_reading_ids(course_id))
        pending["courses"].add(course_id)
    for course_id in sorted(pending["courses"]):
        search.write_course(course_id, commit=False)
    lesson_courses = dict(session.execute(select(Lesson.id, Lesson.course_id)
                                          .where(Lesson.id.in_(pending["lessons"]))).tuples().all())
    for lesson_id in sorted(pending["lessons"]):
        if lesson_courses.get(lesson_id) not in pending["courses"]:
            search.write_lesson(lesson_id, commit=False)
    for reading_id in sorted(pending["readings"]):
        search.write_reading(reading_id, commit=False)
    session.info.pop(_PENDING, None)  # the writes' own flushes noted nothing worth writing again


def _transaction_ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def init_tracking() -> None:
    """Install the session hooks (idempotent; called when the app is built)."""
    if not event.contains(Session, "after_flush", _note_changes):
        event.listen(Session, "after_flush", _note_changes)
        event.listen(Session, "before_commit", _write_before_commit)
        event.listen(Session, "after_transaction_end", _transaction_ended)
