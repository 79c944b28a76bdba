"""Party lectures (党课开讲啦) and the 优秀党课 showcase.

A branch's secretary records a 党课: the service creates a course (approved: it is the branch's own record, not
a catalogue course under review) with one lesson, and a series publishing it to the branch, so the branch's
members watch it like any lesson (and are credited by the normal study rules). The recording is uploaded through
the ordinary chunked upload pipeline (:func:`elearn.courses.services.video_upload_course` lets the secretary do
exactly that). A committee above the branch (an org admin of an organisation strictly above it, or a site admin)
nominates it and may showcase it as 优秀党课 of a year: a second series publishes it to the committee's subtree.
That committee (or one above it) may withdraw the showcase: the series is unpublished, and the lecture is
nominated again. What members were credited for watching it stays theirs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from elearn import clock
from elearn.access import Role
from elearn.audit import services as audit
from elearn.branch import meetings
from elearn.branch.lecture_models import PartyLecture
from elearn.branch.meeting_models import Meeting
from elearn.branch.officers import managed_branches, require_manage_branch
from elearn.community.ratings import course_rating_summary
from elearn.courses import catalog
from elearn.courses.models import Course, Lesson, Series, SeriesCourse, SeriesTarget
from elearn.errors import Conflict, Forbidden, NotFound, ServiceError
from elearn.extensions import ID_MAX, db
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.policy import BRANCH_SHOWCASE, CONTENT_CATEGORIES
from elearn.search import tasks as search_tasks
from elearn.training.models import Lecturer

LECTURE_STATUS_LABELS = {"recorded": _l("已登记"), "nominated": _l("已推荐"), "showcased": _l("优秀党课")}
LECTURE_FIELDS = ["title", "speaker_name", "lecturer_id", "given_on", "meeting_id", "course_id", "lesson_id",
                  "status", "showcase_year", "showcase_organisation_id"]


@dataclass(frozen=True)
class LectureView:
    """A lecture as pages and the API show it."""

    id: int
    title: str
    speaker: str
    given_on: date
    branch: str
    status: str
    showcase_year: int | None
    lesson_id: int
    course_id: int
    playable: bool
    rating: tuple[float, int] | None  # (average stars, count), when ratings exist


def get(lecture_id: int) -> PartyLecture:
    lecture = db.session.get(PartyLecture, lecture_id) if 0 < lecture_id <= ID_MAX else None
    if lecture is None:
        raise NotFound(_("党课不存在。"))
    return lecture


def meetings_for(org: Organisation) -> list[Meeting]:
    """The branch's meetings a lecture may be linked to, newest first."""
    return meetings.meetings_of(org)


def speakers_for(org: Organisation) -> list[Lecturer]:
    """The roster lecturers a branch may name as speaker: active ones of the branch or an organisation above it."""
    ids = [int(x) for x in org.path.strip("/").split("/") if x]
    rows = db.session.execute(select(Lecturer).where(Lecturer.organisation_id.in_(ids),
                                                     Lecturer.status == "active")).scalars()
    return sorted(rows, key=lambda lec: lec.name)


def _publish_series(actor: User, course: Course, title: str, org: Organisation) -> Series:
    series = Series(title=title[:200], description="", required=False, published=True,
                    published_at=clock.now_utc(), created_by_id=actor.id)
    series.items.append(SeriesCourse(course=course, position=0))
    series.targets.append(SeriesTarget(kind="organisation", organisation_id=org.id, include_subtree=True))
    db.session.add(series)
    db.session.flush()
    return series


def record_lecture(actor: User, org: Organisation, *, title: str, speaker_name: str = "",
                   lecturer_id: int | None = None, given_on: date | None = None, meeting_id: int | None = None,
                   category: str | None = None, innovative_theory: bool = False) -> PartyLecture:
    """Record a 党课 of ``org`` (its secretary, deputy or an admin over it): the course, its lesson awaiting the
    recording, and the series publishing it to the branch.

    Raises:
        Forbidden: ``actor`` may not run the branch.
        ServiceError: a missing or too long title or speaker, a date in the future, an unknown category or
            roster lecturer.
    """
    require_manage_branch(actor, org)
    title = (title or "").strip()
    speaker_name = (speaker_name or "").strip()
    category = category or BRANCH_SHOWCASE.lecture_category
    if not title:
        raise ServiceError(_("请填写党课题目。"), "title_required")
    if len(title) > BRANCH_SHOWCASE.title_max:
        raise ServiceError(_("党课题目过长。"), "title_too_long")
    if category not in CONTENT_CATEGORIES:
        raise ServiceError(_("未知的内容类别。"), "bad_category")
    lecturer = None
    if lecturer_id:
        lecturer = next((lec for lec in speakers_for(org) if lec.id == lecturer_id), None)
        if lecturer is None:
            raise ServiceError(_("所选讲师不在本支部可选的师资库中。"), "bad_lecturer")
        speaker_name = speaker_name or lecturer.name
    if not speaker_name:
        raise ServiceError(_("请填写主讲人。"), "speaker_required")
    if len(speaker_name) > BRANCH_SHOWCASE.speaker_max:
        raise ServiceError(_("主讲人姓名过长。"), "speaker_too_long")
    given_on = given_on or clock.site_today()
    if given_on > clock.site_today():
        raise ServiceError(_("授课日期不能晚于今天。"), "future_date")
    meeting = None
    if meeting_id:
        meeting = db.session.get(Meeting, meeting_id) if 0 < meeting_id <= ID_MAX else None
        if meeting is None or meeting.organisation_id != org.id:
            raise ServiceError(_("所选会议不是本支部的会议。"), "bad_meeting")
    course = Course(title=title, description=_("%(org)s 党课，主讲：%(s)s", org=org.name, s=speaker_name),
                    category=category, innovative_theory=bool(innovative_theory), lecturer_id=actor.id,
                    status="approved")
    lesson = Lesson(course=course, title=title, position=0)
    db.session.add_all([course, lesson])
    db.session.flush()
    series = _publish_series(actor, course, _("党课开讲啦：%(t)s", t=title), org)
    lecture = PartyLecture(organisation_id=org.id, title=title, speaker_name=speaker_name,
                           lecturer_id=lecturer.id if lecturer else None, given_on=given_on, meeting_id=meeting_id,
                           course_id=course.id, lesson_id=lesson.id, branch_series_id=series.id, status="recorded",
                           created_by_id=actor.id)
    db.session.add(lecture)
    if meeting is not None:
        meeting.lesson_id = lesson.id  # the meeting's record names its recorded lecture
    db.session.flush()
    audit.record(actor, "lecture.create", lecture, after=audit.snapshot(lecture, LECTURE_FIELDS))
    db.session.commit()
    search_tasks.index_course.enqueue(course.id)
    search_tasks.index_course_audience.enqueue(course.id)
    return lecture


def managed_lecture(actor: User, lecture_id: int) -> PartyLecture:
    """A lecture of a branch ``actor`` runs (for its upload page); NotFound for anyone else."""
    lecture = get(lecture_id)
    try:
        require_manage_branch(actor, lecture.organisation)
    except Forbidden:
        raise NotFound(_("党课不存在。")) from None
    return lecture


def branch_lectures(actor: User) -> list[tuple[Organisation, list[PartyLecture]]]:
    """The branches ``actor`` runs, each with its lectures, newest first."""
    out = []
    for org in managed_branches(actor):
        rows = db.session.execute(select(PartyLecture).where(PartyLecture.organisation_id == org.id)
                                  .order_by(PartyLecture.given_on.desc(), PartyLecture.id.desc())).scalars()
        out.append((org, list(rows)))
    return out


# ---------------------------------------------------------------- committees: nominate and showcase

def _committee_of(actor: User, lecture: PartyLecture) -> Organisation:
    """The committee ``actor`` acts for over the lecture's branch: their organisation when it is strictly above
    the branch (org admins), the branch's top organisation (site admins)."""
    if not actor.is_authenticated or not actor.active:
        raise Forbidden(_("请先登录。"))
    branch = lecture.organisation
    if actor.role == Role.SITE_ADMIN:
        top = int(branch.path.strip("/").split("/")[0])
        return orgs.get(top)
    if actor.role == Role.ORG_ADMIN and actor.organisation_id != branch.id and orgs.can_manage(actor, branch):
        return actor.organisation
    raise Forbidden(_("只有支部的上级党组织可以推荐和评选优秀党课。"))


def _playable(lecture: PartyLecture) -> bool:
    asset = lecture.lesson.asset
    return asset is not None and asset.status == "ready"


def nominate(actor: User, lecture: PartyLecture) -> PartyLecture:
    """A committee above the branch nominates a recorded lecture whose video plays."""
    _committee_of(actor, lecture)
    if lecture.status != "recorded":
        raise Conflict(_("该党课已被推荐。"), "already_nominated")
    if not _playable(lecture):
        raise ServiceError(_("党课录像尚未转码完成，不能推荐。"), "not_playable")
    before = audit.snapshot(lecture, LECTURE_FIELDS)
    lecture.status = "nominated"
    lecture.nominated_by_id = actor.id
    lecture.nominated_at = clock.now_utc()
    audit.record(actor, "lecture.nominate", lecture, before=before, after=audit.snapshot(lecture, LECTURE_FIELDS))
    db.session.commit()
    return lecture


def showcase(actor: User, lecture: PartyLecture, year: int) -> PartyLecture:
    """Showcase a nominated lecture as 优秀党课 of ``year``: published to the committee's whole subtree."""
    committee = _committee_of(actor, lecture)
    if lecture.status == "showcased":
        raise Conflict(_("该党课已评为优秀党课。"), "already_showcased")
    if lecture.status != "nominated":
        raise ServiceError(_("请先推荐该党课，再评为优秀党课。"), "not_nominated")
    if not isinstance(year, int) or not BRANCH_SHOWCASE.first_showcase_year <= year <= clock.site_today().year + 1:
        raise ServiceError(_("年度无效。"), "bad_year")
    before = audit.snapshot(lecture, LECTURE_FIELDS)
    series = _publish_series(actor, lecture.course, _("优秀党课（%(y)s）：%(t)s", y=year, t=lecture.title), committee)
    lecture.status = "showcased"
    lecture.showcased_by_id = actor.id
    lecture.showcase_year = year
    lecture.showcase_organisation_id = committee.id
    lecture.showcase_series_id = series.id
    audit.record(actor, "lecture.showcase", lecture, before=before, after=audit.snapshot(lecture, LECTURE_FIELDS))
    db.session.commit()
    search_tasks.index_course_audience.enqueue(lecture.course_id)
    return lecture


def withdraw_showcase(actor: User, lecture: PartyLecture) -> PartyLecture:
    """Withdraw a lecture from the 优秀党课 (audited ``lecture.unshowcase``): its showcase series is unpublished, so
    it leaves the committee's subtree (the branch's own series stays), and it is nominated again, to be showcased
    anew. Only the committee that showcased it, one above it or a site admin; credit already earned is kept."""
    _committee_of(actor, lecture)
    if lecture.status != "showcased":
        raise Conflict(_("该党课不是优秀党课。"), "not_showcased")
    shown_by = lecture.showcase_organisation
    if actor.role != Role.SITE_ADMIN and (shown_by is None or not orgs.can_manage(actor, shown_by)):
        raise Forbidden(_("只有评选该优秀党课的党组织及其上级可以撤销。"))
    before = audit.snapshot(lecture, LECTURE_FIELDS)
    if lecture.showcase_series is not None:
        lecture.showcase_series.published = False
    lecture.status = "nominated"
    lecture.showcased_by_id = lecture.showcase_year = None
    lecture.showcase_organisation_id = lecture.showcase_series_id = None
    audit.record(actor, "lecture.unshowcase", lecture, before=before, after=audit.snapshot(lecture, LECTURE_FIELDS))
    db.session.commit()
    search_tasks.index_course_audience.enqueue(lecture.course_id)
    return lecture


def committee_lectures(actor: User) -> list[PartyLecture]:
    """The lectures of branches strictly below ``actor``'s committee (site admins: all), newest first."""
    if actor.role not in (Role.ORG_ADMIN, Role.SITE_ADMIN):
        return []
    stmt = (select(PartyLecture).join(Organisation, Organisation.id == PartyLecture.organisation_id)
            .order_by(PartyLecture.given_on.desc(), PartyLecture.id.desc()))
    if actor.role == Role.ORG_ADMIN:
        stmt = stmt.where(Organisation.path.startswith(actor.organisation.path),
                          Organisation.id != actor.organisation_id)
    return list(db.session.execute(stmt).scalars())


# ---------------------------------------------------------------- members

def _visible(user: User, today: date | None = None) -> list[PartyLecture]:
    """Lectures whose branch or showcase series is published to ``user``."""
    series_ids = select(Series.id).where(catalog.audience_condition(user, today))
    stmt = select(PartyLecture).where(PartyLecture.branch_series_id.in_(series_ids)
                                      | PartyLecture.showcase_series_id.in_(series_ids))
    return list(db.session.execute(stmt).scalars())


def _view(lecture: PartyLecture, ratings: dict[int, tuple[float, int]]) -> LectureView:
    return LectureView(id=lecture.id, title=lecture.title, speaker=lecture.speaker_name, given_on=lecture.given_on,
                       branch=lecture.organisation.name, status=lecture.status, showcase_year=lecture.showcase_year,
                       lesson_id=lecture.lesson_id, course_id=lecture.course_id, playable=_playable(lecture),
                       rating=ratings.get(lecture.course_id))


def member_lectures(user: User, today: date | None = None) -> tuple[list[LectureView], list[LectureView]]:
    """(the 优秀党课 showcased to ``user``, newest year first; the other lectures published to them, newest
    first). Only lectures whose video plays are listed."""
    found = [lec for lec in _visible(user, today) if _playable(lec)]
    ratings = course_rating_summary([lec.course_id for lec in found])
    showcased = sorted((lec for lec in found if lec.status == "showcased"),
                       key=lambda lec: (lec.showcase_year or 0, lec.given_on, lec.id), reverse=True)
    others = sorted((lec for lec in found if lec.status != "showcased"),
                    key=lambda lec: (lec.given_on, lec.id), reverse=True)
    return [_view(x, ratings) for x in showcased], [_view(x, ratings) for x in others]


def member_lecture(user: User, lecture_id: int) -> LectureView:
    """One lecture published to ``user``; NotFound otherwise."""
    lecture = get(lecture_id)
    if lecture.id not in {lec.id for lec in _visible(user)} or not _playable(lecture):
        raise NotFound(_("党课不存在。"))
    return _view(lecture, course_rating_summary([lecture.course_id]))
