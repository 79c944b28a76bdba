"""Course review: a lecturer submits a course (status ``in_review``); a site admin approves it or returns it
with comments. Only approved courses can be put in a published series (see :mod:`elearn.courses.series`)."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from elearn import clock
from elearn.access import Role
from elearn.audit import services as audit
from elearn.courses.models import Course
from elearn.errors import Conflict, Forbidden, NotFound, ServiceError
from elearn.extensions import db
from elearn.orgs.models import User

REVIEW_FIELDS = ["status", "review_comment", "reviewed_by_id", "reviewed_at"]
COMMENT_MAX = 4000


def require_reviewer(actor: User) -> None:
    if not actor.is_authenticated or not actor.active or actor.role != Role.SITE_ADMIN:
        raise Forbidden(_("只有系统管理员可以审核课程。"))


def get(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound(_("课程不存在。"))
    return course


def queue(actor: User) -> list[Course]:
    """Courses waiting for review, oldest submission first."""
    require_reviewer(actor)
    stmt = (select(Course).where(Course.status == "in_review")
            .options(selectinload(Course.lecturer), selectinload(Course.lessons))
            .order_by(Course.updated_at, Course.id))
    return list(db.session.execute(stmt).scalars())


def recent(actor: User, limit: int = 20) -> list[Course]:
    """The latest decisions, for the reviewer's history."""
    require_reviewer(actor)
    stmt = (select(Course).where(Course.status.in_(("approved", "returned")), Course.reviewed_at.is_not(None))
            .options(selectinload(Course.lecturer)).order_by(Course.reviewed_at.desc()).limit(limit))
    return list(db.session.execute(stmt).scalars())


def _decide(actor: User, course: Course, status: str, comment: str | None, action: str) -> Course:
    require_reviewer(actor)
    if course.status != "in_review":
        raise Conflict(_("只能审核已提交审核的课程。"), "not_in_review")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ServiceError(_("审核意见过长。"), "comment_too_long")
    before = audit.snapshot(course, REVIEW_FIELDS)
    course.status = status
    course.review_comment = comment or None
    course.reviewed_by_id = actor.id
    course.reviewed_at = clock.now_utc()
    audit.record(actor, action, course, before=before, after=audit.snapshot(course, REVIEW_FIELDS))
    db.session.commit()
    return course


def approve(actor: User, course: Course, comment: str | None = None) -> Course:
    """Approve a submitted course; it may then be published in series."""
    return _decide(actor, course, "approved", comment, "course.approve")


def return_for_changes(actor: User, course: Course, comment: str) -> Course:
    """Return a submitted course to its lecturer; the comment says what to change and is required."""
    if not (comment or "").strip():
        require_reviewer(actor)
        raise ServiceError(_("退回课程须填写审核意见。"), "comment_required")
    return _decide(actor, course, "returned", comment, "course.return")
