"""Search over readings, courses, lessons and subtitles (``/api/v1/search``)."""
from __future__ import annotations

from flask_login import current_user

from elearn.extensions import limiter
from elearn.http.api import api_blueprint, operation, per_user
from elearn.policy import SEARCH_LIMIT_PER_USER
from elearn.search import services as search
from elearn.search.schemas import SearchQuery, SearchResults

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
