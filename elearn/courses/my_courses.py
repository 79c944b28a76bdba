"""My courses (我的课程): electives a member adds from the catalog to keep at hand (``/learn/mine``).

A member may add only a course they may open now (:func:`elearn.courses.catalog.can_view_course`); one that is
no longer published to them stays stored but is not listed (the catalog query lists visible courses only).
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from elearn import clock
from elearn.courses.catalog import can_view_course
from elearn.courses.models import Course, MyCourse
from elearn.errors import NotFound
from elearn.extensions import db, rowcount
from elearn.orgs.models import User


def _visible_course(user: User, course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None or course.status != "approved" or not can_view_course(user, course):
        raise NotFound(_("课程不存在。"))
    return course


def add(user: User, course_id: int) -> bool:
    """Add a course ``user`` may open to their courses; True when added, False when it was there already.

    Raises NotFound for a course out of reach (never confirming that it exists)."""
    course = _visible_course(user, course_id)
    if has(user, course.id):
        return False
    db.session.add(MyCourse(user_id=user.id, course_id=course.id, added_at=clock.now_utc()))
    try:
        db.session.commit()
    except IntegrityError:  # the same member adding it twice at once (two tabs): it is there
        db.session.rollback()
        return False
    return True


def remove(user: User, course_id: int) -> bool:
    """Take a course off ``user``'s courses; True when it was there."""
    removed = rowcount(db.session.execute(delete(MyCourse).where(MyCourse.user_id == user.id,
                                                                 MyCourse.course_id == course_id)))
    db.session.commit()
    return bool(removed)


def has(user: User, course_id: int) -> bool:
    return db.session.execute(select(MyCourse.id).where(MyCourse.user_id == user.id,
                                                        MyCourse.course_id == course_id)).first() is not None
