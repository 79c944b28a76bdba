"""Search over readings, courses, lessons and subtitles (``/api/v1/search``), title suggestions while typing
(``/api/v1/search/suggest``) and finding in an open reading (``/api/v1/readings/<id>/find``)."""
from __future__ import annotations

from flask_login import current_user

from elearn.extensions import limiter
from elearn.http.api import api_blueprint, operation, per_user
from elearn.policy import SEARCH_LIMIT_PER_USER
from elearn.readings import services as readings
from elearn.search import services as search
from elearn.search import suggest
from elearn.search.schemas import (
    FindQuery,
    FoundInReading,
    FoundParagraph,
    SearchQuery,
    SearchResults,
    Suggestion,
    Suggestions,
    SuggestQuery,
)

bp = api_blueprint("search_api", __name__)


@operation(bp, "/search", operation_id="search", query=SearchQuery, response=SearchResults,
           invalid_code="bad_query",
           summary="Full-text search over readings, courses, lessons and subtitles the caller may see")
@limiter.limit(SEARCH_LIMIT_PER_USER, key_func=per_user)
def search_api(query: SearchQuery) -> SearchResults:
    """Search readings, courses, lessons and subtitles the caller may see."""
    results = search.search(current_user, query.q, kind=query.kind,
                            series=str(query.series) if query.series is not None else None,
                            sector=query.sector, page=query.page)
    return SearchResults.model_validate(results.to_dict())


# Limited at the search's rate, each route on its own budget (flask-limiter counts per route): a search box asks
# on every pause in typing, which must not use up the searches themselves.
@operation(bp, "/search/suggest", operation_id="suggestTitles", query=SuggestQuery, response=Suggestions,
           invalid_code="bad_query",
           summary="Titles of courses and readings the caller may open that contain the typed text")
@limiter.limit(SEARCH_LIMIT_PER_USER, key_func=per_user)
def suggest_api(query: SuggestQuery) -> Suggestions:
    """Up to eight titles containing the typed text, those starting with it first; blank text suggests none."""
    found = suggest.suggest(current_user, query.q)
    return Suggestions(query=query.q.strip(), suggestions=[Suggestion(**s.to_dict()) for s in found])


@operation(bp, "/readings/<int:reading_id>/find", operation_id="findInReading", query=FindQuery,
           response=FoundInReading, invalid_code="bad_query", errors={404: "no such reading the caller may open"},
           summary="The paragraphs of a reading that contain the query, marked as the site search marks them")
@limiter.limit(SEARCH_LIMIT_PER_USER, key_func=per_user)
def find_in_reading_api(reading_id: int, query: FindQuery) -> FoundInReading:
    """Marked paragraphs and headings of one reading the caller may open, in reading order."""
    reading = readings.get_visible(current_user, reading_id)
    found = suggest.find_in_reading(reading, query.q)
    return FoundInReading(query=found.query, reading_id=reading.id, count=found.count,
                          paragraphs=[FoundParagraph(id=i, html=html) for i, html in found.matches])
