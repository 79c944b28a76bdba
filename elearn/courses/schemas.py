"""Payloads of the member's course API: the catalog, series, a course with my progress, and a lesson with what
its player needs (``elearn.courses.api``)."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from elearn.extensions import ID_MAX
from elearn.http.paging import PageQuery
from elearn.http.schemas import QueryArgs
from elearn.policy import CONTENT_CATEGORIES, SEARCH_QUERY_MAX_CHARS
from elearn.study.schemas import LessonProgress

# The service refuses an unknown code too (bad_category); the document lists the codes.
Category = Annotated[str, Field(max_length=40, json_schema_extra={"enum": list(CONTENT_CATEGORIES)})]
Hours = Annotated[float, Field(ge=0, le=10_000)]


class CatalogQuery(PageQuery):
    """Filters of the catalog; every one optional, combined with AND."""

    category: Category | None = Field(None, description="content category (基本任务), policy.CONTENT_CATEGORIES")
    series: Annotated[int, Field(ge=1, le=ID_MAX)] | None = Field(None, description="only courses of this series")
    innovative_theory: bool | None = Field(None, description="党的创新理论教育 courses only (true) or none (false)")
    hours_min: Hours | None = None
    hours_max: Hours | None = None
    required: bool | None = Field(None, description="in a required series (true) or elective only (false)")
    new: bool | None = Field(None, description="available to me for at most CatalogPolicy.new_days days")
    q: Annotated[str, Field(max_length=SEARCH_QUERY_MAX_CHARS)] | None = Field(
        None, description="search words (as the search box); best matches first")


class CatalogCourse(BaseModel):
    id: int
    title: str
    category: str
    category_label: str
    innovative_theory: bool
    hours: float = Field(description="学时 the course earns")
    lesson_count: int
    duration_seconds: float
    series_ids: list[int]
    required: bool
    new: bool
    available_since: date | None
    url: str = Field(description="the course page")


class MemberSeriesQuery(PageQuery):
    """Which page of the series published to me."""


class MemberSeries(BaseModel):
    id: int
    title: str
    description: str
    required: bool
    opens_on: date | None
    due_on: date | None
    overdue: bool
    course_count: int


class MemberSeriesDetail(MemberSeries):
    courses: list[CatalogCourse]


class CourseLesson(BaseModel):
    id: int
    title: str
    duration_seconds: float | None
    playable: bool
    completed: bool
    coverage: float
    position: float = Field(description="resume position, seconds")


class CourseReadingRow(BaseModel):
    id: int
    title: str
    minutes: int


class CourseQuiz(BaseModel):
    id: int
    title: str
    hours: float
    used: int
    max_attempts: int
    passed: bool


class MemberCourse(BaseModel):
    id: int
    title: str
    category: str
    category_label: str
    innovative_theory: bool
    declared_hours: float | None
    description_html: str = Field(description="sanitised HTML of the course's Markdown description")
    lessons: list[CourseLesson]
    readings: list[CourseReadingRow]
    quizzes: list[CourseQuiz]


class LessonStartQuery(QueryArgs):
    t: Annotated[float, Field(ge=0, le=10**7)] | None = Field(
        None, description="start here (seconds), as a search hit's link does")


class LessonPlayer(BaseModel):
    """A playback started for me, exactly as the lesson page's player gets it: fetch ``src`` (the master
    playlist, carrying the playback session; its keys are the evidence that credits the playback) and report
    progress to ``progress_url`` with ``playback_session``. The media URLs under ``/learn/media`` take the session
    cookie or the same ``Authorization: Bearer`` header as the API (a token with the ``study`` scope)."""

    src: str
    poster: str
    storyboard: str
    playback_session: str
    resume: float
    start_at: float | None
    duration: float
    rates: list[float]
    progress_url: str
    listen_src: str = Field(
        "", description="the audio-only playlist of the same playback (listening on a weak network: the same "
        "keys and evidence as src), or empty when the lesson's media has none")


class MemberLesson(BaseModel):
    id: int
    course_id: int
    course_title: str
    title: str
    description_html: str
    previous_id: int | None
    next_id: int | None
    completion_threshold: float = Field(description="coverage at which the lesson completes")
    player: LessonPlayer | None = Field(description="null while the lesson has no ready video")
    progress: LessonProgress | None
