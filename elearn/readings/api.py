"""Readings in the JSON API (``/api/v1``): the readings I may open, and one reading's text by sections and
paragraphs with my position and reading-time state — what the reader page shows, under the same rules
(:func:`elearn.readings.services.get_visible`: a reading out of reach is a 404, as on the page)."""
from __future__ import annotations

from flask import Response
from flask_login import current_user

from elearn import policy
from elearn.http.api import api_blueprint, operation
from elearn.http.paging import envelope, etagged, not_modified, page_model, weak_etag
from elearn.readings import services as readings
from elearn.readings.schemas import (
    ReaderCredit,
    ReaderParagraph,
    ReaderSection,
    ReadingListItem,
    ReadingsQuery,
    ReadingText,
)
from elearn.study import services as study

bp = api_blueprint("readings_api", __name__)


@operation(bp, "/readings", operation_id="listReadings", query=ReadingsQuery, response=page_model(ReadingListItem),
           etag=True, invalid_code="bad_query", summary="The readings I may open, newest first")
def list_readings(query: ReadingsQuery) -> Response:
    """The readings page's list: attached to a course I may open, or my own uploads (site admins: all)."""
    found = readings.visible_readings(current_user)
    shown = [ReadingListItem(id=r.id, title=r.title, kind=r.source_kind,
                             kind_label=str(policy.READING_SOURCE_KINDS.get(r.source_kind, r.source_kind)),
                             minutes=int(r.estimated_minutes), chars=r.chars, url=f"/readings/{r.id}")
             for r in found[query.offset:query.offset + query.per_page]]
    return etagged(envelope(ReadingListItem, shown, query, len(found)))


@operation(bp, "/readings/<int:reading_id>", operation_id="getReading", response=ReadingText, etag=True,
           errors={404: "no such reading the caller may open"},
           summary="A reading's text by sections and paragraphs, my last position and reading-time state")
def get_reading(reading_id: int) -> Response:
    """The reader's content. The text of a reading never changes once stored, so the ETag is taken from what
    can change (title, my position, my reading time) and a current copy is answered 304 without loading the
    text from storage."""
    reading = readings.get_visible(current_user, reading_id)
    last = readings.last_position(current_user, reading)
    credit = study.reader_credit(current_user, reading)
    etag = weak_etag("reading", reading.id, reading.parsed_key, reading.title, reading.chars, last, credit)
    if not_modified(etag):
        return etagged(None, etag)
    parsed = readings.load(reading)
    sections = [ReaderSection(id=s.id, title=s.title, level=s.level,
                              paragraphs=[ReaderParagraph(id=p.id, text=p.text) for p in s.paragraphs])
                for s in parsed.sections]
    return etagged(ReadingText(id=reading.id, title=reading.title, minutes=int(reading.estimated_minutes),
                               chars=reading.chars, last_position=last,
                               credit=ReaderCredit(**credit) if credit is not None else None,
                               sections=sections), etag)
