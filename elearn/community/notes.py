"""Private study notes: at a moment of a lesson (the player's current time; a click seeks there) or on a
paragraph of a reading (its stable anchor ``p-N``; the note shows beside it). A note is its member's alone:
every read and write here is filtered by its owner, and anything else is "not found"."""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from elearn import clock
from elearn.community.models import StudyNote
from elearn.community.text import clean_text
from elearn.courses.catalog import can_view_lesson
from elearn.courses.models import Course, Lesson
from elearn.errors import NotFound, ServiceError
from elearn.extensions import db
from elearn.orgs.models import User
from elearn.policy import COMMUNITY
from elearn.readings import services as readings
from elearn.readings.models import Reading


def _check_room(user: User) -> None:
    count = db.session.execute(select(func.count(StudyNote.id)).where(StudyNote.user_id == user.id)).scalar_one()
    if count >= COMMUNITY.notes_per_member:
        raise ServiceError(_("笔记已达上限（%(n)d 条），请先删除一些。", n=COMMUNITY.notes_per_member),
                           "too_many_notes")


def _lesson(user: User, lesson_id: int) -> Lesson:
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or not can_view_lesson(user, lesson):
        raise NotFound(_("课时不存在。"))
    return lesson


def _reading(user: User, reading_id: int) -> Reading:
    return readings.get_visible(user, reading_id)


def add_lesson_note(user: User, lesson_id: int, position_s: object, text: object) -> StudyNote:
    """A note at ``position_s`` seconds of a lesson ``user`` may watch (clipped to the lesson's length)."""
    lesson = _lesson(user, lesson_id)
    if isinstance(position_s, bool) or not isinstance(position_s, int | float) or not math.isfinite(position_s) \
            or position_s < 0:
        raise ServiceError(_("笔记的时间点无效。"), "bad_position")
    body = clean_text(text, COMMUNITY.note_max_chars)
    _check_room(user)
    position = float(position_s)
    if lesson.duration_s:
        position = min(position, float(lesson.duration_s))
    now = clock.now_utc()
    note = StudyNote(user_id=user.id, lesson_id=lesson.id, position_s=round(position, 1), text=body,
                     created_at=now, updated_at=now)
    db.session.add(note)
    db.session.commit()
    return note


def add_reading_note(user: User, reading_id: int, paragraph: object, text: object) -> StudyNote:
    """A note on paragraph ``paragraph`` (``p-N``, one of the reading's) of a reading ``user`` may open."""
    reading = _reading(user, reading_id)
    if not isinstance(paragraph, str) or paragraph not in {p.id for p in readings.load(reading).paragraphs}:
        raise ServiceError(_("段落编号无效。"), "invalid_paragraph")
    body = clean_text(text, COMMUNITY.note_max_chars)
    _check_room(user)
    now = clock.now_utc()
    note = StudyNote(user_id=user.id, reading_id=reading.id, paragraph=paragraph, text=body,
                     created_at=now, updated_at=now)
    db.session.add(note)
    db.session.commit()
    return note


def own_note(user: User, note_id: int) -> StudyNote:
    note = db.session.get(StudyNote, note_id)
    if note is None or note.user_id != user.id:
        raise NotFound(_("笔记不存在。"))
    return note


def edit_note(user: User, note_id: int, text: object) -> StudyNote:
    note = own_note(user, note_id)
    note.text = clean_text(text, COMMUNITY.note_max_chars)
    note.updated_at = clock.now_utc()
    db.session.commit()
    return note


def delete_note(user: User, note_id: int) -> None:
    db.session.delete(own_note(user, note_id))
    db.session.commit()


def lesson_notes(user: User, lesson: Lesson) -> list[StudyNote]:
    """``user``'s notes on ``lesson``, in the order of the video."""
    return list(db.session.execute(select(StudyNote).where(
        StudyNote.user_id == user.id, StudyNote.lesson_id == lesson.id)
        .order_by(StudyNote.position_s, StudyNote.id)).scalars())


def reading_notes(user: User, reading: Reading) -> dict[str, list[StudyNote]]:
    """``user``'s notes on ``reading`` by paragraph anchor."""
    out: dict[str, list[StudyNote]] = {}
    for note in db.session.execute(select(StudyNote).where(
            StudyNote.user_id == user.id, StudyNote.reading_id == reading.id).order_by(StudyNote.id)).scalars():
        out.setdefault(note.paragraph or "", []).append(note)
    return out


def clock_label(seconds: float | None) -> str:
    s = int(seconds or 0)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


@dataclass(frozen=True)
class NoteRow:
    """One note as pages, the API and the export show it."""

    id: int
    kind: str  # "lesson" or "reading"
    group: str  # the course's or the reading's title
    place: str  # the lesson's title and time, or the paragraph
    text: str
    url: str  # jumps to the moment or the paragraph
    lesson_id: int | None
    position_s: float | None
    reading_id: int | None
    paragraph: str | None
    created_at: str


def _paragraph_label(paragraph: str | None) -> str:
    return _("第 %(n)s 段", n=(paragraph or "p-0")[2:])


def note_row(note: StudyNote) -> NoteRow:
    created = clock.to_site(note.created_at).strftime("%Y-%m-%d %H:%M")
    if note.lesson_id is not None and note.lesson is not None:
        lesson = note.lesson
        return NoteRow(note.id, "lesson", lesson.course.title, f"{lesson.title} · {clock_label(note.position_s)}",
                       note.text, f"/learn/lessons/{lesson.id}?t={int(note.position_s or 0)}#notes", lesson.id,
                       note.position_s, None, None, created)
    reading = note.reading
    title = reading.title if reading is not None else ""
    return NoteRow(note.id, "reading", title, _paragraph_label(note.paragraph), note.text,
                   f"/readings/{note.reading_id}#{note.paragraph}", None, None, note.reading_id, note.paragraph,
                   created)


def my_notes(user: User) -> list[NoteRow]:
    """Every note of ``user``: lesson notes by course, lesson and time, then reading notes by reading and
    paragraph (newest courses and readings first would scatter a course's notes)."""
    lesson_rows = db.session.execute(
        select(StudyNote).join(Lesson, Lesson.id == StudyNote.lesson_id).join(Course, Course.id == Lesson.course_id)
        .where(StudyNote.user_id == user.id)
        .order_by(Course.title, Course.id, Lesson.position, Lesson.id, StudyNote.position_s, StudyNote.id)).scalars()
    reading_rows = db.session.execute(
        select(StudyNote).join(Reading, Reading.id == StudyNote.reading_id).where(StudyNote.user_id == user.id)
        .order_by(Reading.title, Reading.id, StudyNote.id)).scalars()
    rows = [note_row(n) for n in lesson_rows]
    readings_sorted = sorted((note_row(n) for n in reading_rows),
                             key=lambda r: (r.group, r.reading_id or 0, int((r.paragraph or "p-0")[2:] or 0), r.id))
    return rows + readings_sorted


def grouped(rows: list[NoteRow]) -> list[tuple[str, str, list[NoteRow]]]:
    """``rows`` as (kind, title, notes) groups, in order."""
    groups: list[tuple[str, str, list[NoteRow]]] = []
    for row in rows:
        key = (row.kind, row.group)
        if not groups or (groups[-1][0], groups[-1][1]) != key:
            groups.append((row.kind, row.group, []))
        groups[-1][2].append(row)
    return groups


def export_rows(user: User) -> list[list[str]]:
    """``user``'s notes for their transcript download: a header row, then one row a note (in /me/notes' order)."""
    head = [_("课程或阅读材料"), _("位置"), _("笔记"), _("记于")]
    return [head, *[[r.group, r.place, r.text, r.created_at] for r in my_notes(user)]]
