"""Searching the index: queries, filters, ranking, paging, and the ``Searcher`` that follows the index.

Matching and ranking run in ``content.engine``: the query's syntax tree is evaluated on
document-id sets read straight from the postings (cached per segment and per open reader); a
text of 3+ characters keeps the candidates from its rarest bigrams whose folded text contains
it, so totals are exact substring counts; only the matching documents are scored
(``content.engine.RANKING``: exact texts, title, BM25 over bigrams) and only the requested page
reads stored fields and is highlighted.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from whoosh.reading import ReaderClosed

from . import engine
from .documents import Anchor
from .highlight import SNIPPET_CHARS, highlight
from .query import ParsedQuery, QueryError, parse_query
from .store import OPEN_ATTEMPTS, VANISHED_ERRORS, SearchIndex

#: Largest page size a search accepts.
MAX_PAGELEN = 100

#: A filter argument: tokens to accept (one string is one token), or None for no restriction.
Filter = str | Collection[str] | None


@dataclass
class SearchHit:
    """One result. ``anchor`` is the paragraph id (readings) or start seconds (subtitles) nearest
    the first match; ``snippet_html``/``title_html`` are escaped HTML with matches in ``<mark>``."""

    doc_id: str
    kind: str
    title: str
    score: float
    snippet_html: str
    title_html: str
    reading_id: str | None = None
    course_id: str | None = None
    lesson_id: str | None = None
    anchor: Anchor | None = None
    series: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The hit as a JSON-ready dict (every field)."""
        return asdict(self)


@dataclass
class SearchPage:
    """One page of results: ``total`` matching documents, ``page`` number (from 1), ``hits``."""

    total: int
    page: int
    pagelen: int
    hits: list[SearchHit]

    @property
    def pagecount(self) -> int:
        """Number of pages (at least 1, also when nothing matched)."""
        return max(1, math.ceil(self.total / self.pagelen))

    def to_dict(self) -> dict[str, Any]:
        """The page as a JSON-ready dict, with ``pagecount`` and the hits as dicts."""
        return {"total": self.total, "page": self.page, "pagelen": self.pagelen,
                "pagecount": self.pagecount, "hits": [h.to_dict() for h in self.hits]}


def _split_tokens(value: str | None) -> list[str]:
    return [t for t in (value or "").split(",") if t]


def _anchor_for(stored: Mapping[str, Any], offset: int | None) -> Anchor | None:
    anchor = stored.get("anchor")
    if offset is None:
        return anchor
    for start, candidate in stored.get("anchors") or ():
        if start > offset:
            break
        anchor = candidate
    return anchor


def _filter_docs(view: engine.ReaderView, kinds: Filter, series: Filter, sectors: Filter,
                 allowed: Filter) -> frozenset[int] | None:
    """Documents passing the filters (None: no filter given)."""
    result: frozenset[int] | None = None
    for fieldname, values in (("kind", kinds), ("series", series), ("sectors", sectors), ("audience", allowed)):
        if values is None:
            continue
        tokens = [values] if isinstance(values, str) else values
        docs: frozenset[int] = frozenset().union(*(view.term_docs(fieldname, str(v)) for v in tokens))
        result = docs if result is None else result & docs
    return result


def match_docnums(searcher: Any, query_string: str, *, kinds: Filter = None, series: Filter = None,
                  sectors: Filter = None, allowed: Filter = None) -> frozenset[int]:
    """Docnums of every document of an open whoosh searcher that matches (exactly; no ranking).

    Args:
        searcher: an open ``whoosh.searching.Searcher`` of an index with ``make_schema()``'s fields.
        query_string: the query (see ``content.query``).
        kinds, series, sectors, allowed: filters as for ``Searcher.search``.

    Raises:
        QueryError: the query is invalid.
    """
    parsed = parse_query(query_string)
    return _match(engine.reader_view(searcher.reader()), parsed, kinds, series, sectors, allowed)


def _match(view: engine.ReaderView, parsed: ParsedQuery, kinds: Filter, series: Filter, sectors: Filter,
           allowed: Filter) -> frozenset[int]:
    for values in (kinds, series, sectors, allowed):
        if values is not None and not isinstance(values, str) and len(values) == 0:
            # Nothing allowed means nothing found (an empty filter would otherwise mean "everything").
            return frozenset()
    allowed_docs = _filter_docs(view, kinds, series, sectors, allowed)
    if allowed_docs is not None and not allowed_docs:
        return frozenset()
    _, matched = engine.evaluate(view, parsed.tree)
    if allowed_docs is not None:
        matched = matched & allowed_docs
    return matched


def check_paging(page: int, pagelen: int) -> None:
    """Refuse a page number below 1 or a page length outside 1 … ``MAX_PAGELEN`` (every backend's rule).

    Raises:
        QueryError: the message is for the user.
    """
    if page < 1:
        raise QueryError("Page numbers start at 1.")
    if not 1 <= pagelen <= MAX_PAGELEN:
        raise QueryError(f"Results per page must be between 1 and {MAX_PAGELEN}.")


def search_whoosh(searcher: Any, query_string: str, *, kinds: Filter = None, series: Filter = None,
                  sectors: Filter = None, allowed: Filter = None, page: int = 1, pagelen: int = 10,
                  snippet_chars: int = SNIPPET_CHARS) -> SearchPage:
    """Run a query on an open whoosh searcher.

    Matching and ranking run in ``content.engine`` (exact total from document sets, BM25 scores
    for the matching documents only); stored fields and snippets are read for the page only.

    Args:
        searcher: an open ``whoosh.searching.Searcher`` of an index with ``make_schema()``'s fields.
        query_string, kinds, series, sectors, allowed, page, pagelen: as for ``Searcher.search``.
        snippet_chars: length of each hit's snippet, in characters.

    Returns:
        ``SearchPage`` with ``total``, ``page`` and ``hits`` (best first).

    Raises:
        QueryError: the query or paging arguments are invalid; the message is for the user.
    """
    check_paging(page, pagelen)
    parsed = parse_query(query_string)
    view = engine.reader_view(searcher.reader())
    matched = _match(view, parsed, kinds, series, sectors, allowed)
    total = len(matched)
    if not matched or (page - 1) * pagelen >= total:
        return SearchPage(total=total, page=page, pagelen=pagelen, hits=[])
    ranked = engine.top_docs(view, matched, engine.rank_spec(parsed.tree), page * pagelen)
    hits = []
    for docnum, score in ranked[(page - 1) * pagelen:page * pagelen]:
        stored = searcher.stored_fields(docnum)
        snippet = highlight(stored.get("body", ""), parsed.literals, size=snippet_chars)
        title = stored.get("title", "")
        hits.append(SearchHit(
            doc_id=stored["doc_id"], kind=stored.get("kind", ""), title=title, score=score,
            snippet_html=snippet.html, title_html=highlight(title, parsed.literals, size=0).html,
            reading_id=stored.get("reading_id"), course_id=stored.get("course_id"),
            lesson_id=stored.get("lesson_id"), anchor=_anchor_for(stored, snippet.first_match),
            series=_split_tokens(stored.get("series")), sectors=_split_tokens(stored.get("sectors")),
        ))
    return SearchPage(total=total, page=page, pagelen=pagelen, hits=hits)


class Searcher:
    """A reader of a ``SearchIndex`` that follows updates and rebuilds.

    ``search`` refreshes first when the index changed, so a long-lived searcher (one per worker
    thread) always answers from the latest committed state. Not safe to share between threads.

    Args:
        index: the ``SearchIndex`` to read.

    Raises:
        EmptyIndexError: the index has not been created.
        RuntimeError: the index could not be opened (its files kept vanishing).
    """

    def __init__(self, index: SearchIndex):
        self.index = index
        self._lock = threading.Lock()
        self._gen: Path | None = None
        self._whoosh: Any = None  # the open whoosh searcher (whoosh is untyped); None once closed
        self._open()

    def _open(self) -> None:
        last_error: Exception | None = None
        for attempt in range(OPEN_ATTEMPTS):
            try:
                gen, ix = self.index.open_generation()
                searcher = ix.searcher()
            except VANISHED_ERRORS as exc:
                last_error = exc
                time.sleep(0.01 * (attempt + 1))
                continue
            old, self._whoosh, self._gen = self._whoosh, searcher, gen
            if old is not None:
                old.close()
            return
        raise RuntimeError(f"could not open the search index at {self.index.path}: {last_error}")

    def _whoosh_searcher(self) -> Any:
        """The open whoosh searcher.

        Raises:
            whoosh.reading.ReaderClosed: ``close`` was called.
        """
        if self._whoosh is None:
            raise ReaderClosed("the searcher is closed")
        return self._whoosh

    @property
    def generation(self) -> Path | None:
        """The generation directory this searcher reads."""
        return self._gen

    def up_to_date(self) -> bool:
        """Whether this searcher sees the latest committed state of the index.

        Raises:
            whoosh.reading.ReaderClosed: the searcher is closed.
        """
        whoosh_searcher = self._whoosh_searcher()
        try:
            return self.index.current_generation() == self._gen and bool(whoosh_searcher.up_to_date())
        except VANISHED_ERRORS:
            return False

    def refresh(self) -> Searcher:
        """Reopen if the index changed (new commit or rebuilt generation); return ``self``.

        Raises:
            whoosh.reading.ReaderClosed: the searcher is closed.
            RuntimeError: the index could not be reopened.
        """
        with self._lock:
            if self.up_to_date():
                return self
            # Always a fresh whoosh searcher: whoosh's own refresh reuses the reader of a segment
            # whose deletions changed and keeps showing deleted documents (and cannot refresh a
            # searcher opened on an empty index). Per-segment caches (content.engine) survive.
            self._open()
            return self

    def doc_count(self) -> int:
        """Number of (undeleted) documents visible to this searcher.

        Raises:
            whoosh.reading.ReaderClosed: the searcher is closed.
        """
        return int(self._whoosh_searcher().doc_count())

    def search(self, query_string: str, *, kinds: Sequence[str] | None = None,
               series: Sequence[str] | None = None, sectors: Sequence[str] | None = None,
               allowed: Iterable[str] | None = None, page: int = 1, pagelen: int = 10,
               refresh: bool = True) -> SearchPage:
        """Search the index.

        Args:
            query_string: the query (words, "phrases", AND/OR/NOT, -word, parentheses).
            kinds: only these kinds (see ``KINDS``); None for all.
            series, sectors: only documents tagged with one of these; None for no restriction.
            allowed: audience tokens the user may see; only documents sharing one are returned.
                None means no restriction; an empty set finds nothing.
            page: page number from 1 (a page past the end has no hits but the right total).
            pagelen: results per page (1 … ``MAX_PAGELEN``).
            refresh: refresh first if the index changed.

        Returns:
            ``SearchPage`` with ``total``, ``page`` and ``hits`` (best first).

        Raises:
            QueryError: the query or paging arguments are invalid; the message is for the user.
            whoosh.reading.ReaderClosed: the searcher is closed.
        """
        if refresh:
            self.refresh()
        allowed_list = None if allowed is None else sorted({str(a) for a in allowed})

        def run() -> SearchPage:
            return search_whoosh(self._whoosh_searcher(), query_string, kinds=kinds, series=series, sectors=sectors,
                                 allowed=allowed_list, page=page, pagelen=pagelen)

        try:
            return run()
        except QueryError:
            raise
        except VANISHED_ERRORS:
            # A segment merged away between refresh and search: reopen once and retry.
            self._open()
            return run()

    def close(self) -> None:
        """Release the index files."""
        if self._whoosh is not None:
            self._whoosh.close()
            self._whoosh = None

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
