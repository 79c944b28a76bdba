"""Payloads of the reader's JSON calls and of the readings API (``elearn.readings.api``)."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from elearn.http.paging import PageQuery
from elearn.http.schemas import Payload


class PositionReport(Payload):
    """The paragraph the reader reached (``p-12``); the service checks that the reading has it."""

    paragraph: Annotated[str, Field(max_length=16)]


class ReadingsQuery(PageQuery):
    """Which page of the readings I may open (newest first)."""


class ReadingListItem(BaseModel):
    id: int
    title: str
    kind: str = Field(description="policy.READING_SOURCE_KINDS")
    kind_label: str
    minutes: int = Field(description="estimated reading time")
    chars: int
    url: str = Field(description="the reader page")


class ReaderParagraph(BaseModel):
    id: str = Field(description="stable anchor (p-1, p-2, …), as the reader page's and the search's")
    text: str


class ReaderSection(BaseModel):
    id: str
    title: str
    level: int = Field(description="1 = top; 0 for the text before the first heading")
    paragraphs: list[ReaderParagraph]


class ReaderCredit(BaseModel):
    """Reading time credited through a course that carries the reading (as the reader page reports it)."""

    progress_url: str = Field(description="POST reading heartbeats here")
    read_minutes: int
    required_minutes: int
    hours: float
    earns: bool = Field(description="whether the reading is long enough to earn hours at all")
    completed: bool
    idle_s: int = Field(description="no scrolling for this long stops counting active time")
    interval_s: int = Field(description="report every this many seconds")


class ReadingText(BaseModel):
    id: int
    title: str
    minutes: int
    chars: int
    last_position: str | None = Field(description="the paragraph I last reached")
    credit: ReaderCredit | None = Field(description="null when no course I may open carries the reading")
    sections: list[ReaderSection]
