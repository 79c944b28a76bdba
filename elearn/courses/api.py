"""The member's courses in the JSON API (``/api/v1``): the catalog, the series published to me, a course with
my progress per lesson, and a lesson with a playback started for me.

Every route answers what the matching page shows, through the same services and visibility rules: a course or
lesson the member may not open is a 404 as on the page, and a lesson's playback is started by the same call as
the lesson page's player (:func:`elearn.media.services.lesson_player`), so crediting follows the same evidence.
"""
from __future__ import annotations

from flask import Response, request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, Field

from elearn import clock
from elearn.courses import catalog_search, my_courses
from elearn.courses import series as series_service
from elearn.courses import services as courses
from elearn.courses.catalog import can_view_course
from elearn.courses.catalog_search import CatalogEntry, searched_course_ids
from elearn.courses.models import Course, Series
from elearn.courses.schemas import (
    CatalogCourse,
    CatalogQuery,
    CourseLesson,
    CourseQuiz,
    CourseReadingRow,
    LessonPlayer,
    LessonStartQuery,
    MemberCourse,
    MemberLesson,
    MemberSeries,
    MemberSeriesDetail,
    MemberSeriesQuery,
)
from elearn.errors import NotFound
from elearn.extensions import db, limiter
from elearn.http.api import api_blueprint, operation, per_user
from elearn.http.paging import envelope, etagged, page_model
from elearn.media import services as media
from elearn.policy import CONTENT_CATEGORIES, POLICY, SEARCH_LIMIT_PER_USER
from elearn.quiz import services as quizzes
from elearn.readings import services as readings
from elearn.study import services as study
from elearn.study.schemas import LessonProgress

bp = api_blueprint("courses_api", __name__)

_COURSE_ERRORS = {404: "no such course the caller may open"}
_LESSON_ERRORS = {404: "no such lesson the caller may open"}


def _catalog_course(entry: CatalogEntry) -> CatalogCourse:
    return CatalogCourse(
        id=entry.id, title=entry.title, category=entry.category,
        category_label=str(CONTENT_CATEGORIES.get(entry.category, entry.category)),
        innovative_theory=entry.innovative_theory, hours=entry.hours, lesson_count=entry.lesson_count,
        duration_seconds=entry.duration_s, series_ids=list(entry.series_ids), required=entry.required,
        new=entry.new, available_since=entry.available_since, url=f"/learn/courses/{entry.id}")


# A catalog search runs the site search: it is limited like the search box (and only when it searches).
@operation(bp, "/catalog", operation_id="listCatalog", query=CatalogQuery, response=page_model(CatalogCourse),
           etag=True, invalid_code="bad_query",
           summary="Courses published to me (the series of my home page), filtered and paged")
@limiter.limit(SEARCH_LIMIT_PER_USER, key_func=per_user, exempt_when=lambda: not request.args.get("q", "").strip())
def list_catalog(query: CatalogQuery) -> Response:
    """The approved courses of the series published to the member, with the filters of the catalog."""
    q = (query.q or "").strip()
    found, total = catalog_search.catalog_page(current_user, catalog_search.CatalogQuery(
        category=query.category, series_id=query.series, innovative_theory=query.innovative_theory,
        hours_min=query.hours_min, hours_max=query.hours_max, required=query.required, new=query.new,
        course_ids=searched_course_ids(current_user, q) if q else None, page=query.page, per_page=query.per_page))
    return etagged(envelope(CatalogCourse, [_catalog_course(e) for e in found], query, total))


def _course_or_404(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None or not can_view_course(current_user, course):
        raise NotFound(_("课程不存在。"))
    return course


def _member_series(s: Series, course_count: int) -> dict:
    today = clock.site_today()
    return {"id": s.id, "title": s.title, "description": s.description, "required": s.required,
            "opens_on": s.opens_on, "due_on": s.due_on, "overdue": bool(s.due_on and s.due_on < today),
            "course_count": course_count}


@operation(bp, "/series", operation_id="listMySeries", query=MemberSeriesQuery, response=page_model(MemberSeries),
           etag=True, invalid_code="bad_query",
           summary="The series (专题) published to me, due-soon first, as on my home page")
def list_series(query: MemberSeriesQuery) -> Response:
    """The series of the member's home page, paged."""
    listing = series_service.home_listing(current_user)
    shown = [MemberSeries(**{k: row[k] for k in ("id", "title", "description", "required", "opens_on", "due_on",
                                                 "overdue")}, course_count=len(row["courses"]))
             for row in listing[query.offset:query.offset + query.per_page]]
    return etagged(envelope(MemberSeries, shown, query, len(listing)))


@operation(bp, "/series/<int:series_id>", operation_id="getMySeries", response=MemberSeriesDetail,
           etag=True, errors={404: "no such series published to the caller"},
           summary="A series published to me and its courses, in the series' order")
def get_series(series_id: int) -> Response:
    """One series of the member's home page with its approved courses as the catalog lists them."""
    found = series_service.member_series(current_user, series_id)
    entries = series_service.series_courses(current_user, found)
    return etagged(MemberSeriesDetail(**_member_series(found, len(entries)),
                                      courses=[_catalog_course(e) for e in entries]))


@operation(bp, "/courses/<int:course_id>", operation_id="getCourse", response=MemberCourse, errors=_COURSE_ERRORS,
           summary="A course I may open: its lessons with my progress, its readings and quizzes")
def get_course(course_id: int) -> MemberCourse:
    """What the course page shows: lessons with duration and my progress, readings, quizzes with my attempts."""
    course = _course_or_404(course_id)
    progress = study.course_progress(current_user, course)
    lessons = []
    for les in course.lessons:
        state = progress.get(les.id)
        lessons.append(CourseLesson(
            id=les.id, title=les.title, duration_seconds=les.duration_s, playable=les.duration_s is not None,
            completed=bool(state and state.completed), coverage=round(min(state.coverage, 1.0), 4) if state else 0.0,
            position=round(state.position, 3) if state else 0.0))
    quiz_rows = []
    for quiz in quizzes.quizzes_of(course):
        attempts = quizzes.attempts_of(current_user, quiz)
        quiz_rows.append(CourseQuiz(id=quiz.id, title=quiz.title, hours=quiz.hours, used=len(attempts),
                                    max_attempts=quiz.max_attempts, passed=any(a.passed for a in attempts)))
    return MemberCourse(
        id=course.id, title=course.title, category=course.category,
        category_label=str(CONTENT_CATEGORIES.get(course.category, course.category)),
        innovative_theory=course.innovative_theory, declared_hours=course.declared_hours,
        description_html=str(courses.render_markdown(course.description)), lessons=lessons,
        readings=[CourseReadingRow(id=r.id, title=r.title, minutes=int(r.estimated_minutes))
                  for r in readings.course_readings(course)],
        quizzes=quiz_rows)


@operation(bp, "/lessons/<int:lesson_id>", operation_id="getLesson", query=LessonStartQuery,
           response=MemberLesson, errors=_LESSON_ERRORS, invalid_code="bad_query",
           summary="A lesson I may open, with a playback started for me as the lesson page starts it")
def get_lesson(lesson_id: int, query: LessonStartQuery) -> MemberLesson:
    """The lesson page's data: a new playback session and its playlist URL, resume position, neighbours."""
    lesson = study.get_lesson_for(current_user, lesson_id)
    player = media.lesson_player(current_user, lesson, query.t)
    siblings = lesson.course.lessons
    index = siblings.index(lesson)
    progress = study.lesson_progress(current_user, lesson) if player is not None else None
    return MemberLesson(
        id=lesson.id, course_id=lesson.course_id, course_title=lesson.course.title, title=lesson.title,
        description_html=str(courses.render_markdown(lesson.description)),
        previous_id=siblings[index - 1].id if index > 0 else None,
        next_id=siblings[index + 1].id if index + 1 < len(siblings) else None,
        completion_threshold=POLICY.completion_coverage,
        player=LessonPlayer(
            src=player["src"], poster=player["poster"], storyboard=player["storyboard"],
            playback_session=player["ps"], resume=player["resume"], start_at=player["start_at"],
            duration=player["duration"], rates=player["rates"], progress_url=player["progress_url"],
            listen_src=player["listen_src"])
        if player is not None else None,
        progress=LessonProgress.model_validate(progress.as_dict()) if progress is not None else None)



class MyCourseChange(BaseModel):
    """The outcome of adding or removing a course of "my courses"."""

    course_id: int
    mine: bool = Field(description="the course is in my courses now")
    changed: bool = Field(description="false when it already was (add) or was not (remove)")


@operation(bp, "/me/courses/<int:course_id>", method="POST", operation_id="addMyCourse", response=MyCourseChange,
           errors=_COURSE_ERRORS, summary="Add a course I may open to my courses (an elective from the catalog)")
def add_my_course(course_id: int) -> MyCourseChange:
    """Adding a course twice changes nothing; a course out of reach is a 404 as on its page."""
    return MyCourseChange(course_id=course_id, mine=True, changed=my_courses.add(current_user, course_id))


@operation(bp, "/me/courses/<int:course_id>", method="DELETE", operation_id="removeMyCourse",
           response=MyCourseChange, summary="Take a course off my courses")
def remove_my_course(course_id: int) -> MyCourseChange:
    """Removing a course that is not in my courses changes nothing."""
    return MyCourseChange(course_id=course_id, mine=False, changed=my_courses.remove(current_user, course_id))
