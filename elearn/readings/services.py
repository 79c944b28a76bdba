"""Readings: upload and parse, store, attach to courses, who may read them, reading positions.

A reading is parsed by :func:`content.parse_reading` before anything is stored, so a bad file leaves no
trace. The normalised reading lives in storage as ``readings/<id>/reading.json`` beside the original
``readings/<id>/source.<ext>``. A reading is visible to whoever may view a course it is attached to,
to its uploader and to site admins.
"""
from __future__ import annotations

import io
import json
import re
from pathlib import PurePosixPath

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

import content
from elearn import policy
from elearn.access import Role
from elearn.audit import services as audit
from elearn.courses import catalog
from elearn.courses.models import Course
from elearn.errors import Conflict, Forbidden, NotFound, ServiceError, TooLarge
from elearn.extensions import db, rowcount
from elearn.orgs.models import User
from elearn.readings.models import CourseReading, Reading, ReadingPosition
from elearn.search import tasks as search_tasks
from elearn.storage import get_storage
from elearn.study.models import PlaybackSession, ReadingProgress

EDITOR_ROLES = (Role.LECTURER, Role.SITE_ADMIN)
_PARAGRAPH_ID_RE = re.compile(r"^p-[1-9]\d{0,6}$")


def _reindex(reading_id: int) -> None:
    search_tasks.index_reading.enqueue(reading_id)


def source_key(reading_id: int, ext: str) -> str:
    return f"readings/{reading_id}/source{ext}"


def parsed_key(reading_id: int) -> str:
    return f"readings/{reading_id}/reading.json"


# --- access -------------------------------------------------------------------------------------

def can_upload(user: User) -> bool:
    return user.is_authenticated and user.active and user.role in EDITOR_ROLES


def can_manage(user: User, reading: Reading) -> bool:
    """Rename, delete or detach everywhere: the uploader and site admins."""
    return user.role == Role.SITE_ADMIN or reading.uploaded_by_id == user.id


def can_view(user: User, reading: Reading) -> bool:
    """Whether ``user`` may open ``reading``: attached to a course they may view, or theirs, or a site admin."""
    if not user.is_authenticated or not user.active:
        return False
    if can_manage(user, reading):
        return True
    stmt = select(CourseReading.id).where(
        CourseReading.reading_id == reading.id,
        CourseReading.course_id.in_(catalog.visible_course_ids_stmt(user)))
    return db.session.execute(stmt.limit(1)).first() is not None


def get_visible(user: User, reading_id: int) -> Reading:
    """The reading, or ``NotFound`` when it does not exist or ``user`` may not see it (never 403: ids stay secret)."""
    reading = db.session.get(Reading, reading_id)
    if reading is None or not can_view(user, reading):
        raise NotFound(_("阅读材料不存在。"))
    return reading


def visible_readings(user: User) -> list[Reading]:
    """Readings ``user`` may open, newest first."""
    stmt = select(Reading).order_by(Reading.created_at.desc(), Reading.id.desc())
    if user.role != Role.SITE_ADMIN:
        attached = select(CourseReading.reading_id).where(
            CourseReading.course_id.in_(catalog.visible_course_ids_stmt(user)))
        stmt = stmt.where((Reading.uploaded_by_id == user.id) | Reading.id.in_(attached))
    return list(db.session.execute(stmt).scalars())


def editable_courses(user: User) -> list[Course]:
    """Courses ``user`` may attach readings to (``catalog.can_edit_course``)."""
    if user.role == Role.SITE_ADMIN:
        stmt = select(Course)
    elif user.role == Role.LECTURER:
        stmt = select(Course).where(Course.lecturer_id == user.id, Course.status.in_(("draft", "returned")))
    else:
        return []
    return list(db.session.execute(stmt.order_by(Course.title, Course.id)).scalars())


# --- upload ---------------------------------------------------------------------------------------

def _extension(filename: str) -> str:
    return PurePosixPath(filename.replace("\\", "/")).suffix.lower()


def parse_upload(data: bytes, filename: str) -> content.Reading:
    """Parse an uploaded file; ``ServiceError`` with a message for the uploader when it cannot be used."""
    ext = _extension(filename)
    if ext not in content.SUPPORTED_FORMATS:
        raise ServiceError(_("不支持该文件类型。可上传：%(kinds)s。",
                             kinds=" ".join(sorted(content.SUPPORTED_FORMATS))), "unsupported_format")
    if len(data) > policy.READING_MAX_BYTES:
        raise TooLarge(_("文件过大：阅读材料不能超过 %(mb)d MB。", mb=policy.READING_MAX_BYTES // (1024 * 1024)),
                           "too_large")
    try:
        parsed = content.parse_reading(data, filename)
    except content.ReadingError as exc:
        raise ServiceError(_("无法读取该文件：%(reason)s", reason=str(exc)), "unreadable") from exc
    if not parsed.paragraphs:
        raise ServiceError(_("无法读取该文件：%(reason)s", reason=_("文件中没有正文。")), "unreadable")
    return parsed


def reading_to_json(parsed: content.Reading) -> bytes:
    """The stored form of a parsed reading (``content.Reading.to_dict(with_text=True)``)."""
    return json.dumps(parsed.to_dict(with_text=True), ensure_ascii=False).encode("utf-8")


def reading_from_json(data: bytes | str) -> content.Reading:
    """Rebuild a ``content.Reading`` from :func:`reading_to_json`'s output."""
    raw = json.loads(data)
    sections, paragraphs = [], []
    for s in raw["sections"]:
        section = content.Section(id=s["id"], title=s["title"], level=s["level"])
        for p in s.get("paragraphs", ()):
            paragraph = content.Paragraph(id=p["id"], section_id=p["section_id"], text=p["text"])
            section.paragraphs.append(paragraph)
            paragraphs.append(paragraph)
        sections.append(section)
    return content.Reading(title=raw["title"], sections=sections, paragraphs=paragraphs,
                           source_format=raw.get("format", ""))


def upload(actor: User, data: bytes, filename: str, *, title: str | None = None, source_kind: str = "document",
           course: Course | None = None) -> Reading:
    """Parse, store and record a reading uploaded by ``actor``; optionally attach it to ``course``.

    Nothing is stored when the file cannot be parsed or a rule refuses. Indexing is queued after commit.

    Raises:
        Forbidden: ``actor`` may not upload, or may not edit ``course``.
        ServiceError: bad file type, too large, unreadable file.
    """
    if not can_upload(actor):
        raise Forbidden(_("只有讲师和系统管理员可以上传阅读材料。"))
    if source_kind not in policy.READING_SOURCE_KINDS:
        raise ServiceError(_("资料类型无效。"), "invalid_kind")
    if course is not None and not catalog.can_edit_course(actor, course):
        raise Forbidden(_("您不能修改该课程。"))
    parsed = parse_upload(data, filename)
    shown_title = (title or "").strip()[:300] or parsed.title.strip()[:300] or PurePosixPath(filename).stem[:300]
    ext = _extension(filename)
    stored_name = PurePosixPath(filename.replace("\\", "/")).name[:300]
    reading = Reading(title=shown_title, source_kind=source_kind, filename=stored_name, source_key="",
                      chars=sum(len(p.text) for p in parsed.paragraphs),
                      estimated_minutes=float(content.estimate_reading_minutes(parsed)), uploaded_by_id=actor.id)
    db.session.add(reading)
    storage = get_storage()
    try:
        db.session.flush()
        reading.source_key = source_key(reading.id, ext)
        reading.parsed_key = parsed_key(reading.id)
        storage.save(reading.source_key, io.BytesIO(data))
        storage.save(reading.parsed_key, io.BytesIO(reading_to_json(parsed)))
        if course is not None:
            _attach(reading, course)
        audit.record(actor, "reading.upload", reading, after={"title": reading.title, "filename": reading.filename})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if reading.id is not None:
            storage.delete(f"readings/{reading.id}")
        raise
    _reindex(reading.id)
    return reading


def load(reading: Reading) -> content.Reading:
    """The parsed reading from storage."""
    if not reading.parsed_key:
        raise NotFound(_("阅读材料不存在。"))
    with get_storage().open(reading.parsed_key) as fh:
        return reading_from_json(fh.read())


def delete_reading(actor: User, reading: Reading) -> None:
    """Delete a reading, its course links, positions and files; remove it from the index.

    Refused once anyone has study time on it (their records and credits must keep pointing at it).
    """
    if not can_manage(actor, reading):
        raise NotFound(_("阅读材料不存在。"))
    reading_id = reading.id
    studied = db.session.execute(select(ReadingProgress.id).where(ReadingProgress.reading_id == reading_id)
                                 .limit(1)).first() or \
        db.session.execute(select(PlaybackSession.id).where(PlaybackSession.reading_id == reading_id)
                           .limit(1)).first()
    if studied:
        raise Conflict(_("已有党员学习过这份材料，不能删除；可以取消它与课程的关联。"), "in_use")
    db.session.execute(delete(CourseReading).where(CourseReading.reading_id == reading_id))
    db.session.execute(delete(ReadingPosition).where(ReadingPosition.reading_id == reading_id))
    audit.record(actor, "reading.delete", reading, before={"title": reading.title})
    db.session.delete(reading)
    db.session.commit()
    get_storage().delete(f"readings/{reading_id}")
    search_tasks.remove.enqueue("reading", reading_id)


# --- courses --------------------------------------------------------------------------------------

def _attach(reading: Reading, course: Course) -> CourseReading:
    link = db.session.execute(select(CourseReading).where(
        CourseReading.course_id == course.id, CourseReading.reading_id == reading.id)).scalar_one_or_none()
    if link is not None:
        return link
    last = db.session.execute(select(func.max(CourseReading.position))
                              .where(CourseReading.course_id == course.id)).scalar()
    link = CourseReading(course_id=course.id, reading_id=reading.id, position=(last + 1) if last is not None else 0)
    db.session.add(link)
    db.session.flush()
    return link


def attach(actor: User, reading: Reading, course: Course) -> CourseReading:
    """Attach ``reading`` at the end of ``course``'s readings (no-op if already attached).

    The actor must be able to edit the course and to see the reading.
    """
    if not can_view(actor, reading):
        raise NotFound(_("阅读材料不存在。"))
    if not catalog.can_edit_course(actor, course):
        raise Forbidden(_("您不能修改该课程。"))
    link = _attach(reading, course)
    audit.record(actor, "reading.attach", reading, after={"course_id": course.id})
    db.session.commit()
    _reindex(reading.id)
    return link


def detach(actor: User, reading: Reading, course: Course) -> None:
    """Remove ``reading`` from ``course`` (editors of the course; the uploader and site admins anywhere)."""
    if not (catalog.can_edit_course(actor, course) or can_manage(actor, reading)):
        raise Forbidden(_("您不能修改该课程。"))
    result = db.session.execute(delete(CourseReading).where(
        CourseReading.course_id == course.id, CourseReading.reading_id == reading.id))
    if not rowcount(result):
        raise NotFound(_("该课程未关联这份阅读材料。"))
    _renumber(course.id)
    audit.record(actor, "reading.detach", reading, before={"course_id": course.id})
    db.session.commit()
    _reindex(reading.id)


def _links(course_id: int) -> list[CourseReading]:
    return list(db.session.execute(select(CourseReading).where(CourseReading.course_id == course_id)
                                   .order_by(CourseReading.position, CourseReading.id)).scalars())


def _renumber(course_id: int) -> None:
    for i, link in enumerate(_links(course_id)):
        link.position = i


def move(actor: User, reading: Reading, course: Course, delta: int) -> None:
    """Move ``reading`` ``delta`` places within ``course``'s ordered readings (clamped to the ends)."""
    if not catalog.can_edit_course(actor, course):
        raise Forbidden(_("您不能修改该课程。"))
    links = _links(course.id)
    index = next((i for i, link in enumerate(links) if link.reading_id == reading.id), None)
    if index is None:
        raise NotFound(_("该课程未关联这份阅读材料。"))
    link = links.pop(index)
    links.insert(max(0, min(len(links), index + delta)), link)
    for i, item in enumerate(links):
        item.position = i
    db.session.commit()


def course_readings(course: Course) -> list[Reading]:
    """Readings of ``course`` in their order (callers check that the user may view the course)."""
    return [link.reading for link in _links(course.id)]


def courses_of(reading: Reading) -> list[Course]:
    """Courses ``reading`` is attached to."""
    stmt = (select(Course).join(CourseReading, CourseReading.course_id == Course.id)
            .where(CourseReading.reading_id == reading.id).order_by(Course.title, Course.id))
    return list(db.session.execute(stmt).scalars())


def attached_course_ids(reading_id: int) -> list[int]:
    return list(db.session.execute(select(CourseReading.course_id)
                                   .where(CourseReading.reading_id == reading_id)).scalars())


# --- reading positions ----------------------------------------------------------------------------

def save_position(user: User, reading: Reading, paragraph_id: str) -> None:
    """Remember the paragraph ``user`` reached in ``reading`` (must be one of its paragraphs)."""
    if not can_view(user, reading):
        raise NotFound(_("阅读材料不存在。"))
    if not isinstance(paragraph_id, str) or not _PARAGRAPH_ID_RE.match(paragraph_id):
        raise ServiceError(_("段落编号无效。"), "invalid_paragraph")
    if paragraph_id not in {p.id for p in load(reading).paragraphs}:
        raise ServiceError(_("段落编号无效。"), "invalid_paragraph")
    row = db.session.execute(select(ReadingPosition).where(
        ReadingPosition.user_id == user.id, ReadingPosition.reading_id == reading.id)).scalar_one_or_none()
    if row is None:
        db.session.add(ReadingPosition(user_id=user.id, reading_id=reading.id, paragraph_id=paragraph_id))
    else:
        row.paragraph_id = paragraph_id
    db.session.commit()


def last_position(user: User, reading: Reading) -> str | None:
    """The paragraph id ``user`` last reached in ``reading``, or None."""
    return db.session.execute(select(ReadingPosition.paragraph_id).where(
        ReadingPosition.user_id == user.id, ReadingPosition.reading_id == reading.id)).scalar_one_or_none()
