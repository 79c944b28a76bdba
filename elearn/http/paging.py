"""Paged lists and conditional GETs of the JSON API.

A list operation takes :class:`PageQuery` (``page``, ``per_page``, bounded by ``policy.API_PAGING``) — or a
query model derived from it with the list's filters — and answers the envelope of :func:`page_model`:
``{items, page, per_page, total, next}``, ``next`` being the URL of the following page or null.

:func:`etagged` answers a weak ETag computed over what the list shows (its content, or a cheaper fingerprint
such as max(updated_at) and count) and a bodiless 304 when the request's ``If-None-Match`` matches, so a
phone polling a large list downloads it again only when it changed.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Response, jsonify, request
from pydantic import BaseModel, Field, create_model
from sqlalchemy import Select, func, select

from elearn.extensions import db
from elearn.http.schemas import QueryArgs
from elearn.policy import API_PAGING

T = TypeVar("T")


class PageQuery(QueryArgs):
    """Which page of a list."""

    page: int = Field(1, ge=1, le=API_PAGING.page_max, description="1-based page number")
    per_page: int = Field(API_PAGING.per_page_default, ge=1, le=API_PAGING.per_page_max,
                          description="items per page")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


_PAGE_MODELS: dict[type[BaseModel], type[BaseModel]] = {}


def page_model(item: type[BaseModel]) -> type[BaseModel]:
    """The envelope model of a page of ``item`` (named ``<Item>Page`` in the OpenAPI document)."""
    model = _PAGE_MODELS.get(item)
    if model is None:
        model = create_model(
            f"{item.__name__}Page",
            items=(list[item], ...),  # type: ignore[valid-type]
            page=(int, ...), per_page=(int, ...),
            total=(int, Field(..., description="items matching the filters, over every page")),
            next=(str | None, Field(None, description="URL of the next page, null on the last")),
        )
        _PAGE_MODELS[item] = model
    return model


def next_url(query: PageQuery, total: int) -> str | None:
    """The URL of the page after ``query``'s (same path and filters), or None when it is the last."""
    if query.offset + query.per_page >= total or query.page >= API_PAGING.page_max:
        return None
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    args.append(("page", str(query.page + 1)))
    return f"{request.path}?{urlencode(args)}"


def envelope(item: type[BaseModel], items: list[Any], query: PageQuery, total: int) -> BaseModel:
    """The page envelope of already-converted ``items`` (the current page only)."""
    return page_model(item)(items=items, page=query.page, per_page=query.per_page, total=total,
                            next=next_url(query, total))


def paginate(stmt: Select, query: PageQuery) -> tuple[list[Any], int]:
    """The rows of ``stmt`` on ``query``'s page (``stmt`` must order by a unique key for stable pages) and the
    total number of rows it selects."""
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = list(db.session.execute(stmt.limit(query.per_page).offset(query.offset)).scalars())
    return rows, int(total)


def weak_etag(*parts: Any) -> str:
    """A weak ETag over ``parts`` (anything JSON can render; datetimes as text)."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode())
    return f'W/"{digest.hexdigest()[:32]}"'


def content_etag(model: BaseModel) -> str:
    """A weak ETag over what ``model`` renders as JSON."""
    return weak_etag(model.model_dump(mode="json"))


def fingerprint_etag(stmt: Select, updated_column: Any, *extra: Any) -> str:
    """A weak ETag from max(``updated_column``) and the count of the rows ``stmt`` selects (plus ``extra``,
    e.g. the page and filters), without loading the rows."""
    sub = stmt.order_by(None).subquery()
    column = sub.c[updated_column.key]
    latest, count = db.session.execute(select(func.max(column), func.count()).select_from(sub)).one()
    return weak_etag(str(latest), count, *extra)


def not_modified(etag: str) -> bool:
    """The request's ``If-None-Match`` names ``etag`` (weak comparison, ``*`` matches)."""
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in header.split(","))


def etagged(model: BaseModel | None, etag: str | None = None) -> Response:
    """``model`` as JSON with a weak ETag (``etag``, else one over its content), or 304 when the client holds
    it already. ``model`` may be None when ``etag`` is given and matches (the content was not built)."""
    if etag is None:
        if model is None:
            raise ValueError("etagged needs a model or an etag")
        etag = content_etag(model)
    if not_modified(etag):
        response = Response(status=304)
    else:
        if model is None:
            raise ValueError("etagged needs the model when the client's copy is stale")
        response = jsonify(model.model_dump(mode="json"))
    response.headers["ETag"] = etag
    # Kept by the client but revalidated every time: the list is personal (private) and may change any moment.
    response.headers["Cache-Control"] = "private, no-cache"
    return response
