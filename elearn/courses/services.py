"""Courses and lessons as lecturers write them in the studio: create, edit, reorder, submit for review.

Reviewing and approving belongs to the review service; this module only moves a course into "in_review".
Who may edit is :func:`elearn.courses.catalog.can_edit_course`; who may even see a course in the studio is
:func:`studio_course` (the owner and site admins; everyone else gets "not found").
"""
from __future__ import annotations

import markdown
import nh3
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from elearn.access import Role
from elearn.audit import services as audit
from elearn.branch.lecture_access import may_upload_recording
from elearn.courses.catalog import can_edit_course
from elearn.courses.models import Course, Lesson
from elearn.errors import Forbidden, NotFound, ServiceError
from elearn.extensions import db
from elearn.i18n import join_list
from elearn.orgs.models import User
from elearn.policy import CONTENT_CATEGORIES
from elearn.search import tasks as search_tasks

STUDIO_ROLES = (Role.LECTURER, Role.SITE_ADMIN)
COURSE_FIELDS = ["title", "description", "category", "innovative_theory", "declared_hours", "attention_checks",
                 "status"]
TITLE_MAX = 200
# Tags a course or lesson description may keep after Markdown rendering; everything else is stripped.
ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "h2", "h3", "h4", "a", "code", "pre",
                "hr", "table", "thead", "tbody", "tr", "th", "td"}


def render_markdown(text: str | None) -> Markup:
    """Markdown → HTML with only harmless tags and attributes kept (links get rel="noopener noreferrer")."""
    html = markdown.markdown(text or "", extensions=["tables"], output_format="html")
    return Markup(nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}},
                            url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer"))


def _check_studio_user(user: User) -> None:
    if not user.is_authenticated or user.role not in STUDIO_ROLES:
        raise Forbidden(_("只有讲师可以使用课程工作室。"))


def studio_courses(user: User) -> list[Course]:
    """The courses ``user`` manages in the studio: their own; a site admin sees all. Newest first."""
    _check_studio_user(user)
    stmt = select(Course).order_by(Course.created_at.desc(), Course.id.desc())
    if user.role != Role.SITE_ADMIN:
        stmt = stmt.where(Course.lecturer_id == user.id)
    return list(db.session.execute(stmt).scalars())


def studio_course(user: User, course_id: int) -> Course:
    """The course if ``user`` owns it (or is a site admin); NotFound otherwise, so ids reveal nothing."""
    _check_studio_user(user)
    course = db.session.get(Course, course_id)
    if course is None or (user.role != Role.SITE_ADMIN and course.lecturer_id != user.id):
        raise NotFound(_("课程不存在。"))
    return course


def studio_lesson(user: User, lesson_id: int) -> Lesson:
    """The lesson if its course is visible to ``user`` in the studio; NotFound otherwise."""
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None:
        raise NotFound(_("课时不存在。"))
    studio_course(user, lesson.course_id)
    return lesson


def check_editable(user: User, course: Course) -> None:
    if not can_edit_course(user, course):
        raise Forbidden(_("课程正在审核或已通过审核，不能修改。"))


def video_upload_course(user: User, course_id: int) -> Course:
    """The course whose lesson videos ``user`` may upload: one they may edit in the studio, or the recording
    course of a party lecture of a branch they run (elearn.branch.lecture_access, and nothing else)."""
    course = db.session.get(Course, course_id)
    if course is not None and may_upload_recording(user, course):
        return course
    course = studio_course(user, course_id)
    check_editable(user, course)
    return course


def _clean_fields(title: str, category: str, declared_hours: float | None) -> str:
    title = (title or "").strip()
    if not title:
        raise ServiceError(_("请填写标题。"), "title_required")
    if len(title) > TITLE_MAX:
        raise ServiceError(_("标题过长。"), "title_too_long")
    if category not in CONTENT_CATEGORIES:
        raise ServiceError(_("请选择课程类别。"), "bad_category")
    if declared_hours is not None and not 0 < declared_hours <= 100:
        raise ServiceError(_("认定学时应在 0 到 100 之间。"), "bad_hours")
    return title


def create_course(user: User, *, title: str, description: str = "", category: str,
                  innovative_theory: bool = False, declared_hours: float | None = None,
                  attention_checks: bool = False) -> Course:
    """A draft course owned by ``user``."""
    _check_studio_user(user)
    title = _clean_fields(title, category, declared_hours)
    course = Course(title=title, description=description or "", category=category,
                    innovative_theory=bool(innovative_theory), declared_hours=declared_hours,
                    attention_checks=bool(attention_checks), lecturer_id=user.id, status="draft")
    db.session.add(course)
    db.session.flush()
    audit.record(user, "course.create", course, after=audit.snapshot(course, COURSE_FIELDS))
    db.session.commit()
    search_tasks.index_course.enqueue(course.id)
    return course


def update_course(user: User, course: Course, *, title: str, description: str, category: str,
                  innovative_theory: bool, declared_hours: float | None, attention_checks: bool = False) -> Course:
    check_editable(user, course)
    title = _clean_fields(title, category, declared_hours)
    before = audit.snapshot(course, COURSE_FIELDS)
    course.title, course.description, course.category = title, description or "", category
    course.innovative_theory, course.declared_hours = bool(innovative_theory), declared_hours
    course.attention_checks = bool(attention_checks)
    audit.record(user, "course.update", course, before=before, after=audit.snapshot(course, COURSE_FIELDS))
    db.session.commit()
    search_tasks.index_course.enqueue(course.id)
    return course


def add_lesson(user: User, course: Course, *, title: str, description: str = "") -> Lesson:
    """A new lesson at the end of the course."""
    check_editable(user, course)
    title = _clean_fields(title, course.category, None)
    position = max((les.position for les in course.lessons), default=-1) + 1
    lesson = Lesson(course=course, title=title, description=description or "", position=position)
    db.session.add(lesson)
    db.session.commit()
    search_tasks.index_lesson.enqueue(lesson.id)
    return lesson


def update_lesson(user: User, lesson: Lesson, *, title: str, description: str) -> Lesson:
    check_editable(user, lesson.course)
    lesson.title = _clean_fields(title, lesson.course.category, None)
    lesson.description = description or ""
    db.session.commit()
    search_tasks.index_lesson.enqueue(lesson.id)
    return lesson


def reorder_lessons(user: User, course: Course, lesson_ids: list[int]) -> None:
    """Put the course's lessons in the order of ``lesson_ids``, which must name each lesson exactly once."""
    check_editable(user, course)
    by_id = {les.id: les for les in course.lessons}
    if sorted(lesson_ids) != sorted(by_id):
        raise ServiceError(_("课时顺序无效，请刷新页面后重试。"), "bad_order")
    for position, lesson_id in enumerate(lesson_ids):
        by_id[lesson_id].position = position
    db.session.commit()
    db.session.refresh(course, ["lessons"])


def move_lesson(user: User, lesson: Lesson, offset: int) -> None:
    """Move a lesson ``offset`` places up (negative) or down (positive), within the course."""
    order = [les.id for les in sorted(lesson.course.lessons, key=lambda les: (les.position, les.id))]
    index = order.index(lesson.id)
    target = min(max(index + offset, 0), len(order) - 1)
    order.insert(target, order.pop(index))
    reorder_lessons(user, lesson.course, order)


def submit_for_review(user: User, course: Course) -> Course:
    """Send a draft (or returned) course to review: it needs lessons, each with a playable video."""
    check_editable(user, course)
    if not course.lessons:
        raise ServiceError(_("课程至少需要一个课时才能提交审核。"), "no_lessons")
    missing = [les.title for les in course.lessons if les.asset is None or les.asset.status != "ready"]
    if missing:
        raise ServiceError(_("以下课时还没有可播放的视频：%(titles)s", titles=join_list(missing)), "lesson_not_ready")
    before = audit.snapshot(course, COURSE_FIELDS)
    course.status = "in_review"
    audit.record(user, "course.submit", course, before=before, after=audit.snapshot(course, COURSE_FIELDS))
    db.session.commit()
    return course
