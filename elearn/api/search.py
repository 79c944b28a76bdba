"""API endpoints: search. Routes attach to the shared /api/v1 blueprint."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from elearn import policy
from elearn.api import _error, api_login_required, bp
from elearn.api.openapi import EXTRA_PATHS, EXTRA_SCHEMAS
from elearn.services import search


@bp.get("/search")
@api_login_required
def search_api():
    """Search readings, courses, lessons and subtitles the caller may see."""
    raw_page = request.args.get("page", "1")
    try:
        page = int(raw_page)
    except ValueError:
        return _error(400, "bad_query", _("页码无效。"))
    try:
        results = search.search(current_user, request.args.get("q", ""), kind=request.args.get("kind") or None,
                                series=request.args.get("series") or None,
                                sector=request.args.get("sector") or None, page=page)
    except search.SearchQueryError as exc:
        return _error(400, exc.code, exc.message)
    return jsonify(results.to_dict())


def _paths() -> dict:
    def param(name, description, schema, required=False):
        return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}

    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {"/search": {"get": {
        "summary": "Full-text search over readings, courses, lessons and subtitles the caller may see",
        "operationId": "search",
        "parameters": [
            param("q", "words, \"phrases\", AND / OR / NOT, -word, parentheses", {
                "type": "string", "maxLength": policy.SEARCH_QUERY_MAX_CHARS}, required=True),
            param("kind", "only results of this kind", {"type": "string", "enum": list(policy.SEARCH_KINDS)}),
            param("series", "only results of courses in this series (id)", {"type": "integer"}),
            param("sector", "only results published to this sector", {
                "type": "string", "enum": list(policy.SECTORS)}),
            param("page", "page number, from 1", {"type": "integer", "minimum": 1, "default": 1}),
        ],
        "responses": {
            "200": {"description": "one page of results", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/SearchResults"}}}},
            "400": {"description": "invalid query or filter", **error},
            "401": {"description": "not authenticated", **error},
        },
    }}}


EXTRA_PATHS.append(_paths)
EXTRA_SCHEMAS["SearchResults"] = {
    "type": "object",
    "required": ["query", "total", "page", "pagecount", "hits"],
    "properties": {
        "query": {"type": "string"},
        "total": {"type": "integer"},
        "page": {"type": "integer"},
        "pagecount": {"type": "integer"},
        "hits": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
    },
}
EXTRA_SCHEMAS["SearchHit"] = {
    "type": "object",
    "required": ["kind", "title", "title_html", "snippet_html", "url"],
    "properties": {
        "kind": {"type": "string", "enum": list(policy.SEARCH_KINDS)},
        "kind_label": {"type": "string"},
        "title": {"type": "string"},
        "title_html": {"type": "string", "description": "escaped HTML, matches in <mark>"},
        "snippet_html": {"type": "string", "description": "escaped HTML, matches in <mark>"},
        "url": {"type": "string", "description": "the paragraph of a reading or the moment of a lesson (?t=seconds)"},
        "reading_id": {"type": ["integer", "null"]},
        "course_id": {"type": ["integer", "null"]},
        "lesson_id": {"type": ["integer", "null"]},
        "anchor": {"type": ["string", "null"], "description": "paragraph id of a reading hit"},
        "seconds": {"type": ["number", "null"], "description": "start of the subtitle cue"},
    },
}
