"""Series (专题): ordered courses published to audiences — sectors, organisations (with or without their
subtree) and member categories — required or optional, with open and due dates.

Site admins create, edit, publish and unpublish series; every change is audited. Only approved courses can
be in a published series. Who sees a published series is decided by :mod:`elearn.courses.catalog`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from elearn import clock
from elearn.access import Role
from elearn.audit import services as audit
from elearn.courses import catalog
from elearn.courses.catalog_search import CatalogEntry, CatalogQuery, catalog_page
from elearn.courses.models import Course, Series, SeriesCourse, SeriesTarget
from elearn.errors import Forbidden, NotFound, ServiceError
from elearn.extensions import db
from elearn.i18n import join_list
from elearn.notify import tasks as notify_tasks
from elearn.orgs.models import Organisation, User
from elearn.policy import MEMBER_CATEGORIES, SECTORS
from elearn.search import tasks as search_tasks

SERIES_FIELDS = ["title", "description", "required", "opens_on", "due_on", "published", "published_at"]
TITLE_MAX = 200


@dataclass(frozen=True)
class Audience:
    """The targets of a series as plain values: what a form produces and what :func:`save` accepts."""

    sectors: tuple[str, ...] = ()
    # (organisation id, include its subtree)
    organisations: tuple[tuple[int, bool], ...] = ()
    categories: tuple[str, ...] = ()


def require_publisher(actor: User) -> None:
    if not actor.is_authenticated or not actor.active or actor.role != Role.SITE_ADMIN:
        raise Forbidden(_("只有系统管理员可以管理专题。"))


def get(series_id: int) -> Series:
    series = db.session.get(Series, series_id)
    if series is None:
        raise NotFound(_("专题不存在。"))
    return series


def all_series(actor: User) -> list[Series]:
    require_publisher(actor)
    stmt = (select(Series).options(selectinload(Series.items), selectinload(Series.targets))
            .order_by(Series.published.desc(), Series.created_at.desc(), Series.id.desc()))
    return list(db.session.execute(stmt).scalars())


def approved_courses() -> list[Course]:
    """Courses that may be placed in a series."""
    return list(db.session.execute(
        select(Course).where(Course.status == "approved").order_by(Course.title)).scalars())


def audience_of(series: Series) -> Audience:
    # A target's column for its kind is always set (see save); the None checks are for the type checker.
    return Audience(
        sectors=tuple(t.sector for t in series.targets if t.kind == "sector" and t.sector is not None),
        organisations=tuple((t.organisation_id, t.include_subtree) for t in series.targets
                            if t.kind == "organisation" and t.organisation_id is not None),
        categories=tuple(t.member_category for t in series.targets
                         if t.kind == "category" and t.member_category is not None),
    )


def _audit_view(series: Series) -> dict:
    out = audit.snapshot(series, SERIES_FIELDS)
    out["course_ids"] = [i.course_id for i in series.items]
    aud = audience_of(series)
    out["targets"] = {"sectors": list(aud.sectors), "organisations": [list(o) for o in aud.organisations],
                      "categories": list(aud.categories)}
    return out


def _check(title: str, opens_on: date | None, due_on: date | None, course_ids: list[int],
           audience: Audience) -> list[Course]:
    if not title:
        raise ServiceError(_("请填写专题名称。"), "title_required")
    if len(title) > TITLE_MAX:
        raise ServiceError(_("专题名称过长。"), "title_too_long")
    if opens_on and due_on and due_on < opens_on:
        raise ServiceError(_("截止日期不能早于开放日期。"), "bad_dates")
    if len(set(course_ids)) != len(course_ids):
        raise ServiceError(_("同一课程不能在专题中出现两次。"), "duplicate_course")
    courses = {c.id: c for c in db.session.execute(select(Course).where(Course.id.in_(course_ids))).scalars()}
    if len(courses) != len(course_ids):
        raise ServiceError(_("所选课程不存在。"), "bad_course")
    for code in audience.sectors:
        if code not in SECTORS:
            raise ServiceError(_("未知的领域。"), "bad_sector")
    for code in audience.categories:
        if code not in MEMBER_CATEGORIES:
            raise ServiceError(_("未知的党员类别。"), "bad_category")
    org_ids = [oid for oid, _sub in audience.organisations]
    if len(set(org_ids)) != len(org_ids):
        raise ServiceError(_("同一组织不能重复选择。"), "duplicate_org")
    found = set(db.session.execute(select(Organisation.id).where(Organisation.id.in_(org_ids))).scalars())
    if found != set(org_ids):
        raise ServiceError(_("所选组织不存在。"), "bad_org")
    return [courses[cid] for cid in course_ids]


def _check_publishable(series: Series) -> None:
    if not series.items:
        raise ServiceError(_("专题至少需要一门课程才能发布。"), "no_courses")
    unapproved = [i.course.title for i in series.items if i.course.status != "approved"]
    if unapproved:
        raise ServiceError(_("以下课程尚未审核通过，不能发布：%(t)s", t=join_list(unapproved)), "course_not_approved")
    if not any(t.kind in ("sector", "organisation") for t in series.targets):
        # catalog.audience_condition needs a place; categories alone only narrow it.
        raise ServiceError(_("请至少选择一个领域或组织作为发布对象。"), "no_audience")


def save(actor: User, series: Series | None, *, title: str, description: str = "", required: bool = False,
         opens_on: date | None = None, due_on: date | None = None, course_ids: Sequence[int] = (),
         audience: Audience = Audience()) -> Series:
    """Create (``series`` None) or replace the fields, courses (in this order) and targets of a series.

    Courses must exist; a published series must stay publishable (only approved courses, some audience).
    """
    require_publisher(actor)
    title = (title or "").strip()
    courses = _check(title, opens_on, due_on, [int(c) for c in course_ids], audience)
    before = _audit_view(series) if series is not None else None
    touched = {item.course_id for item in series.items} if series is not None else set()
    if series is None:
        series = Series(created_by_id=actor.id, published=False)
        db.session.add(series)
    series.title = title
    series.description = (description or "").strip()
    series.required = bool(required)
    series.opens_on = opens_on
    series.due_on = due_on
    # Replace items and targets; flush the deletes first so the unique (series, course) pair is free.
    series.items.clear()
    series.targets.clear()
    db.session.flush()
    for pos, course in enumerate(courses):
        series.items.append(SeriesCourse(course=course, position=pos))
    for code in audience.sectors:
        series.targets.append(SeriesTarget(kind="sector", sector=code))
    for oid, subtree in audience.organisations:
        series.targets.append(SeriesTarget(kind="organisation", organisation_id=oid, include_subtree=bool(subtree)))
    for code in audience.categories:
        series.targets.append(SeriesTarget(kind="category", member_category=code))
    db.session.flush()
    if series.published:
        _check_publishable(series)
    audit.record(actor, "series.create" if before is None else "series.update", series,
                 before=before, after=_audit_view(series))
    db.session.commit()
    if series.published:  # only published series give documents their series and sector filters
        _reindex_audience(touched | {c.id for c in courses})
    return series


def _reindex_audience(course_ids: set[int]) -> None:
    """The series and sector filters of these courses' documents (and their readings') changed."""
    for course_id in sorted(course_ids):
        search_tasks.index_course_audience.enqueue(course_id)


def publish(actor: User, series: Series) -> Series:
    """Publish: members of the audience see it from its open date on."""
    require_publisher(actor)
    _check_publishable(series)
    before = _audit_view(series)
    series.published = True
    series.published_at = clock.now_utc()
    audit.record(actor, "series.publish", series, before=before, after=_audit_view(series))
    db.session.commit()
    _reindex_audience({item.course_id for item in series.items})
    if series.required:  # each member of the audience is told once, by a job in batches
        notify_tasks.fan_out.enqueue("series_required", series.id)
    return series


def unpublish(actor: User, series: Series) -> Series:
    require_publisher(actor)
    before = _audit_view(series)
    series.published = False
    audit.record(actor, "series.unpublish", series, before=before, after=_audit_view(series))
    db.session.commit()
    _reindex_audience({item.course_id for item in series.items})
    return series


def home_listing(user: User, today: date | None = None) -> list[dict]:
    """The series published to ``user`` as plain data for the home page: due-soon first, then newest.

    Each: ``{"id", "title", "description", "required", "opens_on", "due_on", "overdue", "courses":
    [{"id", "title", "url"}]}``; only approved courses are listed.
    """
    today = today or clock.site_today()
    found = catalog.series_for(user, today)
    if not found:
        return []
    ids = [s.id for s in found]
    rows = db.session.execute(
        select(SeriesCourse.series_id, Course.id, Course.title)
        .join(Course, Course.id == SeriesCourse.course_id)
        .where(SeriesCourse.series_id.in_(ids), Course.status == "approved")
        .order_by(SeriesCourse.series_id, SeriesCourse.position)).all()
    courses: dict[int, list[dict]] = {}
    for sid, cid, ctitle in rows:
        courses.setdefault(sid, []).append({"id": cid, "title": ctitle, "url": f"/learn/courses/{cid}"})
    return [{"id": s.id, "title": s.title, "description": s.description, "required": s.required,
             "opens_on": s.opens_on, "due_on": s.due_on, "overdue": bool(s.due_on and s.due_on < today),
             "courses": courses.get(s.id, [])} for s in found]


# ---------------------------------------------------------------- the member's catalog

def member_series(user: User, series_id: int, today: date | None = None) -> Series:
    """A series published to ``user`` (one of :func:`catalog.series_for`); NotFound otherwise."""
    found = next((s for s in catalog.series_for(user, today) if s.id == series_id), None)
    if found is None:
        raise NotFound(_("专题不存在。"))
    return found


def series_courses(user: User, series: Series, today: date | None = None) -> list[CatalogEntry]:
    """The catalog entries of ``series``'s approved courses (as the catalog lists them), in the series' order."""
    found, _total = catalog_page(user, CatalogQuery(series_id=series.id, per_page=max(1, len(series.items))),
                                 today, with_total=False)
    entries = {e.id: e for e in found}
    return [entries[i.course_id] for i in series.items if i.course_id in entries]
