"""Course ratings: 1–5 stars and an optional comment, by a member who has finished the course (a course credit,
or a credit for each playable lesson: :func:`elearn.ledger.certificates.finished_course_ids`); one per member
and course, a second rating updates the first."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from elearn import clock
from elearn.community.models import CourseRating
from elearn.community.text import clean_text
from elearn.courses.catalog import can_view_course
from elearn.courses.models import Course
from elearn.errors import Forbidden, NotFound, ServiceError
from elearn.extensions import db
from elearn.ledger.certificates import finished_course_ids
from elearn.orgs.models import User
from elearn.policy import COMMUNITY

STARS = range(1, 6)


def has_finished(user: User, course: Course) -> bool:
    return course.id in finished_course_ids(user)


def my_rating(user: User, course: Course) -> CourseRating | None:
    return db.session.execute(select(CourseRating).where(
        CourseRating.user_id == user.id, CourseRating.course_id == course.id)).scalar()


def rate_course(user: User, course: Course, stars: object, comment: object = "") -> CourseRating:
    """Rate ``course`` (``stars``: an integer 1–5); NotFound for a course the member cannot see, Forbidden
    before they have finished it, ServiceError for stars or a comment that do not fit."""
    if not can_view_course(user, course):
        raise NotFound(_("课程不存在。"))
    if isinstance(stars, bool) or not isinstance(stars, int) or stars not in STARS:
        raise ServiceError(_("评分须为 1 到 5 的整数。"), "bad_stars")
    text = clean_text(comment, COMMUNITY.comment_max_chars, required=False)
    if not has_finished(user, course):
        raise Forbidden(_("学完本课程后才能评分。"), "not_completed")
    now = clock.now_utc()
    row = my_rating(user, course)
    if row is None:
        row = CourseRating(user_id=user.id, course_id=course.id, stars=stars, comment=text,
                           created_at=now, updated_at=now)
        db.session.add(row)
    else:
        row.stars, row.comment, row.updated_at = stars, text, now
    db.session.commit()
    return row


def course_rating_summary(course_ids: Iterable[int]) -> dict[int, tuple[float, int]]:
    """``{course_id: (average stars, number of ratings)}`` for the rated ones among ``course_ids``, in one
    query (unrated courses are absent)."""
    ids = sorted({int(i) for i in course_ids})
    if not ids:
        return {}
    rows = db.session.execute(
        select(CourseRating.course_id, func.avg(CourseRating.stars), func.count(CourseRating.id))
        .where(CourseRating.course_id.in_(ids)).group_by(CourseRating.course_id)).all()
    return {cid: (round(float(avg), 2), int(n)) for cid, avg, n in rows}


@dataclass(frozen=True)
class RatingPanel:
    """What the course page shows: the average, the count, and the member's own rating if they may rate."""

    average: float | None
    count: int
    may_rate: bool
    stars: int | None
    comment: str


def rating_panel(user: User, course: Course) -> RatingPanel:
    average, count = course_rating_summary([course.id]).get(course.id, (None, 0))
    mine = my_rating(user, course)
    return RatingPanel(average=average, count=count, may_rate=has_finished(user, course),
                       stars=mine.stars if mine else None, comment=mine.comment if mine else "")
