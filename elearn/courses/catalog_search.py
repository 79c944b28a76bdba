"""The member's catalog (``/learn/``, ``GET /api/v1/catalog``): the approved courses of the series published to
them (:func:`elearn.courses.catalog.audience_condition`, the one visibility rule), filtered, ordered and paged
in SQL, so a page costs the same few queries however many courses the site has.

:func:`catalog_page` answers one page of :class:`CatalogEntry` and the total; :func:`lesson_progress_by_course`
gives the member's completed/playable lessons of any courses in one grouped query (the catalog's bars and the
home page's series).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, case, exists, func, literal, or_, select

from elearn import clock
from elearn.courses.catalog import audience_condition
from elearn.courses.models import Course, Lesson, MyCourse, Series, SeriesCourse, SeriesTarget
from elearn.errors import ServiceError
from elearn.extensions import db
from elearn.ledger import services as ledger
from elearn.ledger.models import StudyCredit
from elearn.media.models import MediaAsset
from elearn.orgs.models import User
from elearn.policy import CATALOG, CONTENT_CATEGORIES, POLICY
from elearn.search import services as search
from elearn.study.models import WatchProgress

# Hours are compared before the 0.01 rounding the catalog shows: half a hundredth of slack keeps them equal.
HOURS_EPS = 0.005


@dataclass(frozen=True)
class CatalogQuery:
    """Filters of the catalog (None leaves one out) and the page."""

    category: str | None = None
    series_id: int | None = None
    innovative_theory: bool | None = None
    hours_min: float | None = None
    hours_max: float | None = None
    required: bool | None = None
    new: bool | None = None
    mine: bool = False  # only the courses in "my courses"
    # Only these courses, in this order (the courses of a search's hits, best first).
    course_ids: Sequence[int] | None = None
    # Courses of series published to this sector come first (the home page's recommendations).
    sector_first: str | None = None
    page: int = 1
    per_page: int = 20

    @property
    def offset(self) -> int:
        return (max(1, self.page) - 1) * self.per_page


@dataclass(frozen=True)
class CatalogEntry:
    """A course as the catalog shows it to the member."""

    id: int
    title: str
    category: str
    innovative_theory: bool
    hours: float  # declared 学时, else its playable video at POLICY.minutes_per_online_hour a 学时
    lesson_count: int
    duration_s: float
    series_ids: tuple[int, ...]  # the member's series that hold it: due-soon first, then newest
    required: bool  # in at least one required series
    available_since: date | None  # when the first of those series opened to the member (site date)
    new: bool
    mine: bool  # in "my courses"
    lessons_done: int
    lessons_playable: int
    credited: bool  # the course (declared hours) is credited
    in_sector: bool = False  # in a series published to the query's ``sector_first`` sector

    @property
    def percent(self) -> int:
        if self.credited:
            return 100
        if not self.lessons_playable:
            return 0
        return min(100, round(100 * self.lessons_done / self.lessons_playable))

    @property
    def category_label(self) -> str:
        return str(CONTENT_CATEGORIES.get(self.category, self.category))


def check_query(query: CatalogQuery) -> None:
    """Raises ServiceError: an unknown category, or a minimum of hours above the maximum."""
    if query.category is not None and query.category not in CONTENT_CATEGORIES:
        raise ServiceError(_("未知的内容类别。"), "bad_category")
    if query.hours_min is not None and query.hours_max is not None and query.hours_min > query.hours_max:
        raise ServiceError(_("学时下限不能大于上限。"), "bad_hours")


def _new_from(today: date) -> tuple[date, datetime]:
    """The first site day a course still counts as new, and the UTC instant that day starts."""
    first = today - timedelta(days=CATALOG.new_days)
    return first, clock.from_site_local(datetime.combine(first, time.min))


def catalog_page(user: User, query: CatalogQuery, today: date | None = None, *,
                 with_total: bool = True) -> tuple[list[CatalogEntry], int]:
    """One page of the courses published to ``user`` that match ``query``, and how many match in all (-1 when
    not ``with_total``: a caller showing a few courses saves the count).

    Order: (sector first when asked) ``query.course_ids`` order when given, else newest available first, then
    title. Raises ServiceError as :func:`check_query`.
    """
    check_query(query)
    today = today or clock.site_today()
    first_new_day, first_new_at = _new_from(today)
    audience = audience_condition(user, today)
    # Per visible course: in a required series; new (every holder opened within the new days); newest opening.
    opened_recently = or_(Series.published_at >= first_new_at, Series.opens_on >= first_new_day)
    holders = (select(SeriesCourse.course_id.label("course_id"),
                      func.max(case((Series.required.is_(True), 1), else_=0)).label("required"),
                      func.min(case((opened_recently, 1), else_=0)).label("new"),
                      func.max(Series.published_at).label("latest"))
               .join(Series, Series.id == SeriesCourse.series_id)
               .where(audience)
               .group_by(SeriesCourse.course_id)).subquery("holders")
    media = (select(Lesson.course_id.label("course_id"), func.count(Lesson.id).label("lessons"),
                    func.coalesce(func.sum(MediaAsset.duration_s), 0.0).label("seconds"))
             .outerjoin(MediaAsset, and_(MediaAsset.id == Lesson.asset_id, MediaAsset.status == "ready"))
             .where(Lesson.course_id.in_(select(holders.c.course_id)))
             .group_by(Lesson.course_id)).subquery("media")
    seconds = func.coalesce(media.c.seconds, 0.0)
    hours = case((Course.declared_hours > 0, Course.declared_hours),
                 else_=seconds / (POLICY.minutes_per_online_hour * 60.0))
    mine = exists().where(MyCourse.user_id == user.id, MyCourse.course_id == Course.id)
    stmt = (select(Course, holders.c.required, holders.c.new, func.coalesce(media.c.lessons, 0), seconds,
                   mine.label("mine"))
            .join(holders, holders.c.course_id == Course.id)
            .outerjoin(media, media.c.course_id == Course.id)
            .where(Course.status == "approved"))
    if query.category is not None:
        stmt = stmt.where(Course.category == query.category)
    if query.innovative_theory is not None:
        stmt = stmt.where(Course.innovative_theory.is_(query.innovative_theory))
    if query.series_id is not None:
        stmt = stmt.where(exists().where(SeriesCourse.course_id == Course.id,
                                         SeriesCourse.series_id == query.series_id,
                                         Series.id == SeriesCourse.series_id, audience))
    if query.hours_min is not None:
        stmt = stmt.where(hours >= query.hours_min - HOURS_EPS)
    if query.hours_max is not None:
        stmt = stmt.where(hours < query.hours_max + HOURS_EPS)
    if query.required is not None:
        stmt = stmt.where(holders.c.required == (1 if query.required else 0))
    if query.new is not None:
        stmt = stmt.where(holders.c.new == (1 if query.new else 0))
    if query.mine:
        stmt = stmt.where(mine)
    if query.course_ids is not None:
        if not query.course_ids:
            return [], 0
        stmt = stmt.where(Course.id.in_(list(query.course_ids)))
    total = -1
    if with_total:
        total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        if not total:
            return [], 0
    order: list[Any] = []
    if query.sector_first is not None:
        sector_series = select(SeriesTarget.series_id).where(SeriesTarget.kind == "sector",
                                                             SeriesTarget.sector == query.sector_first)
        in_sector = (select(literal(1)).select_from(SeriesCourse)
                     .join(Series, Series.id == SeriesCourse.series_id)
                     .where(SeriesCourse.course_id == Course.id, Series.id.in_(sector_series), audience).exists())
        sector_rank = case((in_sector, 0), else_=1)
        stmt = stmt.add_columns(sector_rank)
        order.append(sector_rank)
    else:
        stmt = stmt.add_columns(literal(1))
    if query.course_ids is not None:
        order.append(case({cid: i for i, cid in enumerate(query.course_ids)}, value=Course.id))
    else:
        order += [holders.c.latest.desc(), Course.title, Course.id]
    rows = db.session.execute(stmt.order_by(*order, Course.id).limit(query.per_page).offset(query.offset)).all()
    return _entries(user, rows, today, first_new_day), int(total)


def _entries(user: User, rows: Sequence[Any], today: date, first_new_day: date) -> list[CatalogEntry]:
    ids = [row[0].id for row in rows]
    series_of: dict[int, list[int]] = {}
    since: dict[int, date] = {}
    for course_id, series_id, published_at, opens_on in db.session.execute(
            select(SeriesCourse.course_id, Series.id, Series.published_at, Series.opens_on)
            .join(Series, Series.id == SeriesCourse.series_id)
            .where(SeriesCourse.course_id.in_(ids), audience_condition(user, today))
            .order_by(Series.due_on.is_(None), Series.due_on, Series.published_at.desc(), Series.id)).all():
        series_of.setdefault(course_id, []).append(series_id)
        dates = [d for d in (clock.site_date(published_at) if published_at else None, opens_on) if d is not None]
        if dates:
            since[course_id] = min(since.get(course_id, date.max), max(dates))
    progress = lesson_progress_by_course(user, ids)
    credited = credited_courses(user, ids)
    out = []
    for course, required, new, lessons, seconds, mine, sector_rank in rows:
        done, playable = progress.get(course.id, (0, 0))
        out.append(CatalogEntry(
            id=course.id, title=course.title, category=course.category,
            innovative_theory=course.innovative_theory,
            hours=round(course.declared_hours, 2) if course.declared_hours else ledger.hours_for_seconds(seconds),
            lesson_count=int(lessons), duration_s=float(seconds), series_ids=tuple(series_of.get(course.id, ())),
            required=bool(required), available_since=since.get(course.id), new=bool(new), mine=bool(mine),
            lessons_done=done, lessons_playable=playable, credited=course.id in credited,
            in_sector=sector_rank == 0))
    return out


def lesson_progress_by_course(user: User, course_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """``{course id: (lessons completed by user, playable lessons)}`` in one grouped query."""
    if not course_ids:
        return {}
    rows = db.session.execute(
        select(Lesson.course_id, func.count(WatchProgress.completed_at), func.count(MediaAsset.id))
        .outerjoin(MediaAsset, and_(MediaAsset.id == Lesson.asset_id, MediaAsset.status == "ready"))
        .outerjoin(WatchProgress, and_(WatchProgress.lesson_id == Lesson.id, WatchProgress.user_id == user.id))
        .where(Lesson.course_id.in_(list(course_ids)))
        .group_by(Lesson.course_id)).all()
    return {cid: (int(done), int(playable)) for cid, done, playable in rows}


def credited_courses(user: User, course_ids: Sequence[int]) -> set[int]:
    """Which of ``course_ids`` the ledger credits to ``user`` as whole courses (declared hours)."""
    if not course_ids:
        return set()
    return set(db.session.execute(select(StudyCredit.source_id).where(
        StudyCredit.user_id == user.id, StudyCredit.source_kind == "course",
        StudyCredit.source_id.in_(list(course_ids)))).scalars())


def searched_course_ids(user: User, q: str) -> list[int]:
    """The courses of the best search hits for ``q`` (course, lesson and subtitle hits), best first, within what
    ``user`` may see (the search's own visibility), at most CATALOG.search_max_hits hits looked at."""
    ids: list[int] = []
    seen: set[int] = set()
    pagelen = 100
    for page in range(1, CATALOG.search_max_hits // pagelen + 1):
        found = search.search(user, q, page=page, pagelen=pagelen)
        for hit in found.hits:
            if hit.course_id is not None and hit.course_id not in seen:
                seen.add(hit.course_id)
                ids.append(hit.course_id)
        if page >= found.pagecount:
            break
    return ids
