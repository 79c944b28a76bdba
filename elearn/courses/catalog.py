"""Who may see which course: the audience rules of published series (DESIGN.md "Publishing").

A member sees an approved course when it belongs to a published, opened series whose audience includes
them through any organisation they currently belong to (home or inflow), that organisation's sector, and
their member category. Lecturers also see their own courses; site admins see everything.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, exists, false, or_, select

from elearn import clock
from elearn.access import Role
from elearn.courses.models import Course, Lesson, Series, SeriesCourse, SeriesTarget
from elearn.extensions import db
from elearn.orgs.models import Organisation, User


def current_orgs(user: User) -> list[Organisation]:
    """Organisations the user belongs to now: the home one and any open inflow one."""
    found = {user.organisation_id: user.organisation}
    for m in user.memberships:
        if m.ended_on is None:
            found.setdefault(m.organisation_id, m.organisation)
    return list(found.values())


def _ancestor_ids(org: Organisation) -> list[int]:
    return [int(x) for x in org.path.strip("/").split("/") if x]


def targets_condition(user: User, target, owned):
    """A SQL condition true when the targets of an owner include ``user``: any sector/organisation target matches
    (an org target with ``include_subtree`` its whole subtree) and, if categories are named, theirs is one.

    ``target`` is a table shaped like ``SeriesTarget`` (kind, sector, organisation_id, include_subtree,
    member_category) and ``owned`` the condition joining its rows to their owner (``SeriesTarget.series_id ==
    Series.id``), so other published things (model stories) share the series' audience rule.
    """
    orgs_now = current_orgs(user)
    own_ids = {o.id for o in orgs_now}
    ancestors = {a for o in orgs_now for a in _ancestor_ids(o)}
    sectors = {o.sector for o in orgs_now}
    place = or_(
        and_(target.kind == "sector", target.sector.in_(sectors)),
        and_(target.kind == "organisation", target.organisation_id.in_(own_ids)),
        and_(target.kind == "organisation", target.include_subtree.is_(True),
             target.organisation_id.in_(ancestors)),
    )
    place_ok = exists().where(owned, place)
    names_categories = exists().where(owned, target.kind == "category")
    category_ok = exists().where(owned, target.kind == "category", target.member_category == user.category)
    return and_(place_ok, or_(~names_categories, category_ok))


def audience_condition(user: User, today: date | None = None):
    """A SQL condition on ``Series`` true for the published, opened series whose audience includes ``user``."""
    today = today or clock.site_today()
    return and_(Series.published.is_(True), or_(Series.opens_on.is_(None), Series.opens_on <= today),
                targets_condition(user, SeriesTarget, SeriesTarget.series_id == Series.id))


def series_for(user: User, today: date | None = None) -> list[Series]:
    """The series published to ``user``: due-soon first (dated ones by due date), then newest."""
    stmt = select(Series).where(audience_condition(user, today))
    rows = list(db.session.execute(stmt).scalars())
    far = date.max
    rows.sort(key=lambda s: (s.due_on or far, -(s.published_at.timestamp() if s.published_at else 0)))
    return rows


def _published_to(user: User, today: date | None = None):
    """A select of the ids of approved courses in series published to ``user``."""
    return (select(SeriesCourse.course_id)
            .join(Series, Series.id == SeriesCourse.series_id)
            .join(Course, Course.id == SeriesCourse.course_id)
            .where(Course.status == "approved", audience_condition(user, today)))


def visible_course_ids_stmt(user: User, today: date | None = None):
    """A select of the ids of every course ``user`` may open."""
    if user.role == Role.SITE_ADMIN:
        return select(Course.id)
    published = _published_to(user, today)
    own = select(Course.id).where(Course.lecturer_id == user.id) if user.role == Role.LECTURER \
        else select(Course.id).where(false())
    return published.union(own)


def visible_course_ids(user: User, today: date | None = None) -> set[int]:
    return set(db.session.execute(visible_course_ids_stmt(user, today)).scalars())


def can_view_course(user: User, course: Course, today: date | None = None) -> bool:
    if not user.is_authenticated or not user.active:
        return False
    if user.role == Role.SITE_ADMIN or (user.role == Role.LECTURER and course.lecturer_id == user.id):
        return True
    # One course: ask about it alone rather than listing every visible course (this runs on each heartbeat).
    stmt = _published_to(user, today).where(SeriesCourse.course_id == course.id).limit(1)
    return db.session.execute(stmt).first() is not None


def can_view_lesson(user: User, lesson: Lesson, today: date | None = None) -> bool:
    return can_view_course(user, lesson.course, today)


def can_edit_course(user: User, course: Course) -> bool:
    """Lecturers edit their own courses while not in review or approved; site admins always."""
    if user.role == Role.SITE_ADMIN:
        return True
    return user.role == Role.LECTURER and course.lecturer_id == user.id and course.status in ("draft", "returned")
