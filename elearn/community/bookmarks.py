"""Bookmarks (收藏) of a course, a lesson or a reading: private to the member, toggled from the thing's page,
listed on /me/bookmarks with what the member may still open."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from elearn import clock
from elearn.community.models import BOOKMARK_KINDS, Bookmark
from elearn.courses.catalog import can_view_course, can_view_lesson, visible_course_ids
from elearn.courses.models import Course, Lesson
from elearn.errors import NotFound, ServiceError
from elearn.extensions import db
from elearn.orgs.models import User
from elearn.readings import services as readings
from elearn.readings.models import Reading

KIND_LABELS = {"course": _l("课程"), "lesson": _l("课时"), "reading": _l("阅读材料")}


def target_visible(user: User, kind: str, target_id: int) -> Course | Lesson | Reading:
    """The course, lesson or reading ``user`` may open; NotFound for anything else (no leak of what exists)."""
    if kind not in BOOKMARK_KINDS:
        raise ServiceError(_("不能收藏这类内容。"), "bad_kind")
    found: Course | Lesson | Reading | None
    if kind == "course":
        found = db.session.get(Course, target_id)
        ok = found is not None and can_view_course(user, found)
    elif kind == "lesson":
        found = db.session.get(Lesson, target_id)
        ok = found is not None and can_view_lesson(user, found)
    else:
        found = db.session.get(Reading, target_id)
        ok = found is not None and readings.can_view(user, found)
    if not ok or found is None:
        raise NotFound(_("内容不存在。"))
    return found


def is_bookmarked(user: User, kind: str, target_id: int) -> bool:
    return db.session.execute(select(Bookmark.id).where(
        Bookmark.user_id == user.id, Bookmark.target_kind == kind, Bookmark.target_id == target_id)).first() \
        is not None


def set_bookmark(user: User, kind: str, target_id: int, on: bool) -> bool:
    """Bookmark (``on``) or un-bookmark a thing ``user`` may open; returns whether it is bookmarked now."""
    target_visible(user, kind, target_id)
    if on and not is_bookmarked(user, kind, target_id):
        db.session.add(Bookmark(user_id=user.id, target_kind=kind, target_id=target_id,
                                created_at=clock.now_utc()))
    elif not on:
        db.session.execute(delete(Bookmark).where(Bookmark.user_id == user.id, Bookmark.target_kind == kind,
                                                  Bookmark.target_id == target_id))
    db.session.commit()
    return on


def toggle(user: User, kind: str, target_id: int) -> bool:
    return set_bookmark(user, kind, target_id, not is_bookmarked(user, kind, target_id))


@dataclass(frozen=True)
class BookmarkRow:
    id: int
    kind: str
    target_id: int
    title: str
    context: str  # the course of a lesson
    url_endpoint: str
    url_args: dict


def my_bookmarks(user: User) -> list[BookmarkRow]:
    """``user``'s bookmarks of things they may still open, newest first."""
    marks = list(db.session.execute(select(Bookmark).where(Bookmark.user_id == user.id)
                                    .order_by(Bookmark.created_at.desc(), Bookmark.id.desc())).scalars())
    ids = {k: [m.target_id for m in marks if m.target_kind == k] for k in BOOKMARK_KINDS}
    courses = {c.id: c for c in db.session.execute(select(Course).where(Course.id.in_(ids["course"]))).scalars()}
    lessons = {le.id: le for le in db.session.execute(select(Lesson).where(Lesson.id.in_(ids["lesson"]))).scalars()}
    found_readings = {r.id: r for r in db.session.execute(
        select(Reading).where(Reading.id.in_(ids["reading"]))).scalars()}
    visible = visible_course_ids(user)
    out = []
    for m in marks:
        if m.target_kind == "course" and m.target_id in courses and m.target_id in visible:
            c = courses[m.target_id]
            out.append(BookmarkRow(m.id, "course", c.id, c.title, "", "learn.course", {"course_id": c.id}))
        elif m.target_kind == "lesson" and m.target_id in lessons and lessons[m.target_id].course_id in visible:
            le = lessons[m.target_id]
            out.append(BookmarkRow(m.id, "lesson", le.id, le.title, le.course.title, "learn.lesson",
                                   {"lesson_id": le.id}))
        elif m.target_kind == "reading" and m.target_id in found_readings \
                and readings.can_view(user, found_readings[m.target_id]):
            r = found_readings[m.target_id]
            out.append(BookmarkRow(m.id, "reading", r.id, r.title, "", "readings.view", {"reading_id": r.id}))
    return out
