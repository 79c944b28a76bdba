"""Payloads of the party-lecture and model-story APIs (``/api/v1/lectures``, ``/api/v1/models``)."""
from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class LectureItem(BaseModel):
    id: int
    title: str
    speaker: str
    branch: str = Field(description="the branch the lecture was given at")
    given_on: date
    status: str = Field(description="recorded, nominated or showcased (优秀党课)")
    showcase_year: int | None = None
    lesson_id: int = Field(description="play it through GET /api/v1/lessons/{lesson_id}")
    rating_average: float | None = None
    rating_count: int = 0


class LectureList(BaseModel):
    showcased: list[LectureItem] = Field(description="优秀党课 showcased to me, newest year first")
    others: list[LectureItem] = Field(description="the other lectures published to me, newest first")


class StoryItem(BaseModel):
    id: int
    title: str
    person_name: str
    person_org: str
    publisher: str
    published_at: datetime | None = Field(None, description="UTC")
    photo_url: str | None = None


class StoryDetail(StoryItem):
    body_html: str = Field(description="sanitised HTML")


class StoryList(BaseModel):
    items: list[StoryItem]
