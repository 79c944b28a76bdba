"""Payloads of the community API (``elearn.community.api``): notes, bookmarks, questions, ratings. Text
lengths are checked by the services (elearn.community.text) with the policy's limits; the bounds here only keep
absurd bodies out."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from elearn.http.schemas import Payload

_TEXT = Annotated[str, Field(max_length=20_000)]


class LessonNoteIn(Payload):
    position_s: Annotated[float, Field(ge=0, le=1e7, description="the moment of the lesson, in seconds")]
    text: _TEXT


class ReadingNoteIn(Payload):
    paragraph: Annotated[str, Field(max_length=16, description="the paragraph's anchor (p-1, p-2, …)")]
    text: _TEXT


class NoteOut(BaseModel):
    id: int
    kind: Literal["lesson", "reading"]
    group: str = Field(description="the course's or the reading's title")
    place: str = Field(description="the lesson and time, or the paragraph")
    text: str
    url: str = Field(description="the page, at the moment or paragraph")
    lesson_id: int | None
    position_s: float | None
    reading_id: int | None
    paragraph: str | None
    created_at: str = Field(description="site time, YYYY-MM-DD HH:MM")


class NoteList(BaseModel):
    items: list[NoteOut]


class BookmarkOut(BaseModel):
    kind: Literal["course", "lesson", "reading"]
    id: int
    title: str
    context: str = Field(description="the course of a lesson")


class BookmarkList(BaseModel):
    items: list[BookmarkOut]


class BookmarkState(BaseModel):
    kind: str
    id: int
    bookmarked: bool


class PostIn(Payload):
    body: _TEXT


class ReportIn(Payload):
    reason: Annotated[str, Field(max_length=2000)] = ""


class PostOut(BaseModel):
    id: int
    kind: Literal["question", "answer", "reply"]
    author: str
    body: str | None = Field(description="null when the post is hidden from the caller")
    hidden: bool
    answered: bool
    created_at: str
    children: list[PostOut] = []


class ThreadList(BaseModel):
    items: list[PostOut]


class ReportOut(BaseModel):
    reported: bool = Field(description="false when the caller had already reported it")


class RatingIn(Payload):
    stars: int = Field(description="1–5")
    comment: _TEXT = ""


class RatingOut(BaseModel):
    course_id: int
    average: float | None
    count: int
    may_rate: bool = Field(description="the caller has finished the course")
    stars: int | None = Field(description="the caller's own rating")
    comment: str
