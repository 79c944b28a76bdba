"""Payloads of the search API."""
from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field, field_validator

from elearn import policy
from elearn.http.schemas import QueryArgs

# Spelled out for the type checker (a Literal cannot be built from the policy's keys); kept equal to them, in
# their order, which is also the order of the enums in the OpenAPI document.
Kind = Literal["reading", "course", "lesson", "subtitle"]
Sector = Literal["rural", "community", "government", "institution.culture", "institution.education",
                 "institution.student", "institution.research", "institution.health", "enterprise.soe",
                 "enterprise.finance", "enterprise.private", "emerging.economic", "emerging.social", "emerging.gig"]
assert get_args(Kind) == tuple(policy.SEARCH_KINDS), "Kind must list policy.SEARCH_KINDS"
assert get_args(Sector) == tuple(policy.SECTORS), "Sector must list policy.SECTORS"


class SearchQuery(QueryArgs):
    q: Annotated[str, Field(max_length=policy.SEARCH_QUERY_MAX_CHARS,
                            description='words, "phrases", AND / OR / NOT, -word, parentheses')] = ""
    kind: Kind | None = Field(None, description="only results of this kind")
    series: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = Field(
        None, description="only results of courses in this series (id)")
    sector: Sector | None = Field(None, description="only results published to this sector")
    page: Annotated[int, Field(ge=1, le=10_000)] = Field(1, description="page number, from 1")

    @field_validator("kind", "series", "sector", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value


class SearchHit(BaseModel):
    kind: Kind
    kind_label: str
    title: str
    title_html: str = Field(description="escaped HTML, matches in <mark>")
    snippet_html: str = Field(description="escaped HTML, matches in <mark>")
    url: str = Field(description="the paragraph of a reading or the moment of a lesson (?t=seconds)")
    reading_id: int | None = None
    course_id: int | None = None
    lesson_id: int | None = None
    anchor: str | None = Field(None, description="paragraph id of a reading hit")
    seconds: float | None = Field(None, description="start of the subtitle cue")


class SearchResults(BaseModel):
    query: str
    total: int
    page: int
    pagecount: int
    hits: list[SearchHit]


class SuggestQuery(QueryArgs):
    q: Annotated[str, Field(max_length=policy.SEARCH_QUERY_MAX_CHARS,
                            description="what has been typed (matched inside titles, case and width folded)")] = ""


class Suggestion(BaseModel):
    kind: Literal["course", "reading"]
    kind_label: str
    title: str
    title_html: str = Field(description="escaped HTML, the matched part in <mark>")
    url: str


class Suggestions(BaseModel):
    query: str
    suggestions: list[Suggestion] = Field(description="at most 8, titles starting with the query first")


class FindQuery(QueryArgs):
    q: Annotated[str, Field(max_length=policy.SEARCH_QUERY_MAX_CHARS,
                            description='as for search: words, "phrases" (blank finds nothing)')] = ""


class FoundParagraph(BaseModel):
    id: str = Field(description="id of the paragraph (p-N) or section heading (s-N) in the reader page")
    html: str = Field(description="its text as escaped HTML, matches in <mark>")


class FoundInReading(BaseModel):
    query: str
    reading_id: int
    count: int = Field(description="places marked (a paragraph may hold several)")
    paragraphs: list[FoundParagraph] = Field(description="in reading order")
