"""The whoosh search index of readings, courses, lessons and subtitles.

Layout on disk: ``path/CURRENT`` names the current generation directory ``path/gen-…``, which
holds an ordinary whoosh index. Incremental writes go into the current generation under
whoosh's single write lock; ``rebuild`` builds a fresh generation next to it and swaps
``CURRENT`` atomically, so readers never see a half-built index.

Fields (one whoosh document per reading chunk, course, lesson or subtitle chunk):

* ``title``/``body``: jieba words (stored) — the word index and BM25 ranking;
* ``grams``: character bigrams of "title\nbody" — postings only (no positions), used to find
  candidate documents and to answer two-character texts exactly (a single character is looked
  for in every text: a C-speed scan, cheaper than the postings of a common character);
* ``text``: ``fold("title\nbody")`` in an uncompressed column — what exact matching checks;
* ids, ``anchor(s)``, and the filter keywords ``kind``/``series``/``sectors``/``audience``.

Searching (``content.engine``): the query's syntax tree is evaluated on document-id sets read
straight from the postings (cached per segment and per open reader); a text of 3+ characters
keeps the candidates from its rarest bigrams whose folded text contains it, so totals are exact
substring counts; only the matching documents are scored (BM25 on ``body``/``title`` words)
and only the requested page reads stored fields and is highlighted. Everything stays inside the
generation directory and is written by the same single writer, so rebuild/swap stays atomic.
Indexes written before the ``text`` column existed still work (texts then come from the stored
fields, slower on first use).
"""
from __future__ import annotations

import math
import os
import re
import shutil
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import whoosh.index
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.index import EmptyIndexError, IndexError as WhooshIndexError, LockError

from . import engine
from .analysis import BigramAnalyzer, ChineseAnalyzer, fold
from .highlight import SNIPPET_CHARS, highlight
from .query import QueryError, parse_query
from .reading import Reading

#: Kinds of indexed documents.
KINDS = ("reading", "course", "lesson", "subtitle")
#: Target size of one indexed chunk of a long text, in characters.
CHUNK_CHARS = 1500
#: Seconds a writer waits for the index's write lock before giving up.
WRITER_TIMEOUT = 10.0
#: Attempts to open a generation whose files vanish underneath (a concurrent swap or merge).
OPEN_ATTEMPTS = 5
#: Memory a writer may use before flushing a segment, in MB.
WRITER_LIMIT_MB = 256
#: Largest page size a search accepts.
MAX_PAGELEN = 100

_CURRENT = "CURRENT"
_GEN_PREFIX = "gen-"
_SENTENCE_END_RE = re.compile(r"(?<=[。！？!?；;])")
_VANISHED = (FileNotFoundError, EmptyIndexError, WhooshIndexError, OSError, EOFError)


class IndexBusyError(RuntimeError):
    """Another writer held the index's write lock for longer than the timeout."""


def make_schema() -> Schema:
    """The index schema (see the module docstring of ``content.index``)."""
    return Schema(
        doc_id=ID(stored=True, unique=True),
        kind=ID(stored=True),
        title=TEXT(analyzer=ChineseAnalyzer(), stored=True),
        body=TEXT(analyzer=ChineseAnalyzer(), stored=True),
        # Title and body text as bigrams (no positions): candidate documents for exact-text
        # matching, and the exact answer for two-character texts. (Indexes written before
        # also have ``chars``, single characters; it is no longer written or read.)
        grams=TEXT(analyzer=BigramAnalyzer(), phrase=False),
        # fold("title\nbody") as uncompressed UTF-8: the text exact matching checks.
        text=COLUMN(VarBytesColumn()),
        reading_id=ID(stored=True),
        course_id=ID(stored=True),
        lesson_id=ID(stored=True),
        anchor=STORED,
        anchors=STORED,
        series=KEYWORD(stored=True, commas=True, lowercase=False, scorable=False),
        sectors=KEYWORD(stored=True, commas=True, lowercase=False, scorable=False),
        audience=KEYWORD(stored=False, commas=True, lowercase=False, scorable=False),
    )


@dataclass
class IndexDoc:
    """One document to index.

    Attributes:
        doc_id: unique id; writing a document with an existing id replaces it.
        kind: one of ``KINDS``.
        title: shown in results and matched like the body.
        body: plain text (for a chunk of a reading: its headings and paragraphs, one per line).
        reading_id, course_id, lesson_id: link targets (stored as strings).
        anchor: where the document starts: a paragraph id ("p-12") for readings, start seconds
            for subtitle cues.
        anchors: (offset in ``body``, anchor) pairs in ascending offset, so a hit can point at
            the paragraph or cue where the match is rather than where the chunk starts.
        series, sectors: filter tokens.
        audience: opaque tokens the app computes (e.g. "course:12"); a search with ``allowed``
            only returns documents sharing at least one token.
    """

    doc_id: str
    kind: str
    title: str
    body: str = ""
    reading_id: str | int | None = None
    course_id: str | int | None = None
    lesson_id: str | int | None = None
    anchor: str | int | float | None = None
    anchors: Sequence[tuple[int, str | int | float]] = ()
    series: Sequence[str] = ()
    sectors: Sequence[str] = ()
    audience: Sequence[str] = ()

    @classmethod
    def coerce(cls, value: "IndexDoc | Mapping[str, Any]") -> "IndexDoc":
        """Accept an ``IndexDoc`` or a plain dict with the same keys."""
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - set(cls.__dataclass_fields__)
            if unknown:
                raise ValueError(f"unknown IndexDoc fields: {', '.join(sorted(unknown))}")
            return cls(**value)
        raise TypeError(f"expected IndexDoc or dict, got {type(value).__name__}")

    def validate(self) -> None:
        """Raise ``ValueError`` when the document cannot be indexed."""
        if not self.doc_id:
            raise ValueError("IndexDoc.doc_id is empty")
        if self.kind not in KINDS:
            raise ValueError(f"IndexDoc.kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        for name in ("series", "sectors", "audience"):
            values = getattr(self, name)
            if isinstance(values, str):
                raise ValueError(f"IndexDoc.{name} must be a list of tokens, not a string")
            for token in values:
                if not str(token) or "," in str(token):
                    raise ValueError(f"IndexDoc.{name} token {token!r} is empty or contains a comma")

    def fields(self) -> dict[str, Any]:
        """The whoosh field values of this document."""
        text = f"{self.title}\n{self.body}"
        values: dict[str, Any] = {
            "doc_id": str(self.doc_id),
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "grams": text,
            "text": fold(text).encode("utf-8"),
            "anchor": self.anchor,
            "anchors": [tuple(a) for a in self.anchors],
        }
        for name in ("reading_id", "course_id", "lesson_id"):
            if getattr(self, name) is not None:
                values[name] = str(getattr(self, name))
        for name in ("series", "sectors", "audience"):
            tokens = [str(t) for t in getattr(self, name)]
            if tokens:
                values[name] = ",".join(tokens)
        return values


# --- chunking ------------------------------------------------------------------------------

def _split_long(text: str, limit: int) -> list[str]:
    """Split an over-long paragraph at sentence ends (hard cut only for a sentence over ``limit``)."""
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END_RE.split(text):
        while len(sentence) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:limit])
            sentence = sentence[limit:]
        if current and len(current) + len(sentence) > limit:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return pieces


def chunk_lines(lines: Iterable[tuple[str, Any]], chunk_chars: int = CHUNK_CHARS) -> list[tuple[str, list]]:
    """Group (text, anchor) lines into chunks of about ``chunk_chars`` characters.

    Lines are kept whole where possible; a line longer than ``chunk_chars`` is split at sentence ends.

    Args:
        lines: (text, anchor) pairs in order.
        chunk_chars: target chunk size (a chunk exceeds it only by less than one line's worth).

    Returns:
        (body, anchors) per chunk, ``anchors`` being (offset in body, anchor) pairs.
    """
    chunks: list[tuple[str, list]] = []
    parts: list[str] = []
    anchors: list = []
    size = 0
    for text, anchor in lines:
        for piece in _split_long(text, chunk_chars) if len(text) > chunk_chars else [text]:
            if parts and size + len(piece) > chunk_chars:
                chunks.append(("\n".join(parts), anchors))
                parts, anchors, size = [], [], 0
            anchors.append((size, anchor))
            parts.append(piece)
            size += len(piece) + 1
    if parts:
        chunks.append(("\n".join(parts), anchors))
    return chunks


def reading_documents(reading: Reading, reading_id: str | int, *, title: str | None = None,
                      course_id=None, lesson_id=None, series: Sequence[str] = (),
                      sectors: Sequence[str] = (), audience: Sequence[str] = (),
                      chunk_chars: int = CHUNK_CHARS) -> list[IndexDoc]:
    """Index documents for a reading: one per chunk of ~``chunk_chars`` characters.

    Section headings are included in the text; every line points back to its anchor: a paragraph id,
    or for a heading its section id. Doc ids are "reading:<id>:<n>"; use
    ``SearchIndex.replace_by("reading_id", id, docs)`` to re-index a changed reading.

    Args:
        reading: the parsed reading.
        reading_id: the app's id of the reading.
        title: title shown in results (default: the reading's own title).
        course_id, lesson_id, series, sectors, audience: copied to every chunk.
        chunk_chars: target chunk size.
    """
    lines: list[tuple[str, str]] = []
    for section in reading.sections:
        if section.title:
            # A heading points at itself, so a match in it lands on the heading, not the next paragraph.
            lines.append((section.title, section.id))
        lines.extend((paragraph.text, paragraph.id) for paragraph in section.paragraphs)
    shown_title = title if title is not None else reading.title
    return [
        IndexDoc(doc_id=f"reading:{reading_id}:{n}", kind="reading", title=shown_title, body=body,
                 reading_id=reading_id, course_id=course_id, lesson_id=lesson_id,
                 anchor=anchors[0][1], anchors=anchors, series=series, sectors=sectors, audience=audience)
        for n, (body, anchors) in enumerate(chunk_lines(lines, chunk_chars), start=1)
    ]


def subtitle_documents(cues: Iterable[tuple[float, str]], lesson_id: str | int, *, title: str,
                       course_id=None, series: Sequence[str] = (), sectors: Sequence[str] = (),
                       audience: Sequence[str] = (), chunk_chars: int = CHUNK_CHARS) -> list[IndexDoc]:
    """Index documents for a lesson's subtitles: chunks of cues, anchors being cue start seconds.

    Args:
        cues: (start seconds, text) pairs in playback order.
        lesson_id: the app's id of the lesson; doc ids are "subtitle:<lesson_id>:<n>".
        title: the lesson title shown in results.
        course_id, series, sectors, audience: copied to every chunk.
        chunk_chars: target chunk size.
    """
    lines = [(" ".join(text.split()), start) for start, text in cues if text and text.strip()]
    return [
        IndexDoc(doc_id=f"subtitle:{lesson_id}:{n}", kind="subtitle", title=title, body=body,
                 lesson_id=lesson_id, course_id=course_id, anchor=anchors[0][1], anchors=anchors,
                 series=series, sectors=sectors, audience=audience)
        for n, (body, anchors) in enumerate(chunk_lines(lines, chunk_chars), start=1)
    ]


# --- results -------------------------------------------------------------------------------

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
    anchor: str | int | float | None = None
    series: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
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
        return max(1, math.ceil(self.total / self.pagelen))

    def to_dict(self) -> dict:
        return {"total": self.total, "page": self.page, "pagelen": self.pagelen,
                "pagecount": self.pagecount, "hits": [h.to_dict() for h in self.hits]}


def _split_tokens(value: str | None) -> list[str]:
    return [t for t in (value or "").split(",") if t]


def _anchor_for(stored: Mapping[str, Any], offset: int | None):
    anchor = stored.get("anchor")
    if offset is None:
        return anchor
    for start, candidate in stored.get("anchors") or ():
        if start > offset:
            break
        anchor = candidate
    return anchor


def _filter_docs(view: "engine.ReaderView", kinds, series, sectors, allowed) -> frozenset | None:
    """Documents passing the filters (None: no filter given)."""
    result: frozenset | None = None
    for fieldname, values in (("kind", kinds), ("series", series), ("sectors", sectors), ("audience", allowed)):
        if values is None:
            continue
        if isinstance(values, str):
            values = [values]
        docs = frozenset().union(*(view.term_docs(fieldname, str(v)) for v in values))
        result = docs if result is None else result & docs
    return result


def match_docnums(searcher, query_string: str, *, kinds=None, series=None, sectors=None,
                  allowed=None) -> frozenset:
    """Docnums of every document of an open whoosh searcher that matches (exactly; no ranking).

    Raises:
        QueryError: the query is invalid.
    """
    parsed = parse_query(query_string)
    return _match(engine.reader_view(searcher.reader()), parsed, kinds, series, sectors, allowed)


def _match(view, parsed, kinds, series, sectors, allowed) -> frozenset:
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


def search_whoosh(searcher, query_string: str, *, kinds=None, series=None, sectors=None, allowed=None,
                  page: int = 1, pagelen: int = 10, snippet_chars: int = SNIPPET_CHARS) -> SearchPage:
    """Run a query on an open whoosh searcher (see ``Searcher.search`` for the arguments).

    Matching and ranking run in ``content.engine`` (exact total from document sets, BM25 scores
    for the matching documents only); stored fields and snippets are read for the page only.
    """
    if page < 1:
        raise QueryError("Page numbers start at 1.")
    if not 1 <= pagelen <= MAX_PAGELEN:
        raise QueryError(f"Results per page must be between 1 and {MAX_PAGELEN}.")
    parsed = parse_query(query_string)
    view = engine.reader_view(searcher.reader())
    matched = _match(view, parsed, kinds, series, sectors, allowed)
    total = len(matched)
    if not matched or (page - 1) * pagelen >= total:
        return SearchPage(total=total, page=page, pagelen=pagelen, hits=[])
    ranked = engine.top_docs(view, matched, engine.rank_terms(view, parsed.tree), page * pagelen)
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


# --- index and searcher --------------------------------------------------------------------

class SearchIndex:
    """A generational whoosh index at ``path`` (a directory this class owns).

    Args:
        path: directory of the index (created by ``create_or_open``).
        writer_timeout: seconds to wait for the write lock before ``IndexBusyError``.
    """

    def __init__(self, path: str | os.PathLike, *, writer_timeout: float = WRITER_TIMEOUT):
        self.path = Path(path)
        self.writer_timeout = writer_timeout

    # generations

    def current_generation(self) -> Path:
        """Directory of the current generation.

        Raises:
            EmptyIndexError: the index has not been created.
        """
        try:
            name = (self.path / _CURRENT).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            raise EmptyIndexError(f"no search index at {self.path}; call create_or_open() first")
        return self.path / name

    def exists(self) -> bool:
        """Whether the index has been created."""
        return (self.path / _CURRENT).is_file()

    def _new_generation(self) -> Path:
        gen = self.path / f"{_GEN_PREFIX}{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        gen.mkdir(parents=True)
        return gen

    def _point_current_to(self, gen: Path, *, only_if_missing: bool = False) -> bool:
        tmp = self.path / f".{_CURRENT}.{uuid.uuid4().hex}"
        tmp.write_text(gen.name + "\n", encoding="ascii")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        try:
            if only_if_missing:
                try:
                    os.link(tmp, self.path / _CURRENT)  # fails if another process created it first
                except FileExistsError:
                    return False
            else:
                os.replace(tmp, self.path / _CURRENT)
                return True
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def create_or_open(self) -> "SearchIndex":
        """Create the index (empty) if it does not exist yet; return ``self``.

        Safe to call from several processes at once: exactly one creation wins.
        """
        if self.exists():
            return self
        self.path.mkdir(parents=True, exist_ok=True)
        gen = self._new_generation()
        whoosh.index.create_in(str(gen), make_schema())
        if not self._point_current_to(gen, only_if_missing=True):
            shutil.rmtree(gen, ignore_errors=True)
        return self

    def _open_whoosh(self):
        last_error: Exception | None = None
        for attempt in range(OPEN_ATTEMPTS):
            gen = self.current_generation()
            try:
                return gen, whoosh.index.open_dir(str(gen))
            except _VANISHED as exc:
                # A rebuild swapped generations (or a merge removed a segment) while we opened.
                last_error = exc
                time.sleep(0.01 * (attempt + 1))
        raise RuntimeError(f"could not open the search index at {self.path}: {last_error}")

    # writing

    def _writer(self):
        """A whoosh writer on the current generation, holding its write lock."""
        deadline = time.monotonic() + self.writer_timeout
        while True:
            gen, ix = self._open_whoosh()
            remaining = max(0.0, deadline - time.monotonic())
            try:
                writer = ix.writer(timeout=remaining, delay=0.05, limitmb=WRITER_LIMIT_MB)
            except LockError:
                raise IndexBusyError(
                    f"the search index is busy: another writer held it for more than {self.writer_timeout:g} s"
                )
            except _VANISHED:
                if time.monotonic() > deadline:
                    raise IndexBusyError("the search index kept changing generation; try again")
                continue
            if self.current_generation() != gen:
                # A rebuild swapped generations while we waited for the lock of the old one.
                writer.cancel()
                continue
            return gen, writer

    def update_documents(self, docs: Iterable[IndexDoc | Mapping[str, Any]]) -> int:
        """Add or replace documents (by ``doc_id``) in one transaction.

        Args:
            docs: ``IndexDoc`` objects or dicts with the same keys.

        Returns:
            The number of documents written.

        Raises:
            ValueError: a document is invalid (nothing is written then).
            IndexBusyError: the write lock was not obtained within ``writer_timeout``.
        """
        return self.replace_by(None, None, docs)

    def replace_by(self, field: str | None, value, docs: Iterable[IndexDoc | Mapping[str, Any]]) -> int:
        """Delete documents whose ``field`` equals ``value`` and add ``docs``, in one transaction.

        Use it to re-index a reading whose chunk count changed:
        ``replace_by("reading_id", 7, reading_documents(reading, 7))``.

        Args:
            field: an ID field (doc_id, kind, reading_id, course_id, lesson_id) or None to delete nothing.
            value: the value to delete.
            docs: documents to add.

        Raises:
            ValueError: invalid field or document (nothing is written then).
            IndexBusyError: the write lock was not obtained in time.
        """
        prepared = [IndexDoc.coerce(d) for d in docs]
        for doc in prepared:
            doc.validate()
        if field is not None:
            _check_delete_field(field)
        self.create_or_open()
        _, writer = self._writer()
        try:
            if field is not None:
                writer.delete_by_term(field, str(value))
            for doc in prepared:
                writer.update_document(**doc.fields())
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return len(prepared)

    def delete_by(self, field: str, value) -> int:
        """Delete every document whose ``field`` equals ``value``.

        Args:
            field: doc_id, kind, reading_id, course_id or lesson_id.
            value: the value to match (compared as a string).

        Returns:
            The number of documents deleted.

        Raises:
            ValueError: ``field`` is not one of those.
            IndexBusyError: the write lock was not obtained in time.
        """
        _check_delete_field(field)
        self.create_or_open()
        _, writer = self._writer()
        try:
            deleted = writer.delete_by_term(field, str(value))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return deleted

    def rebuild(self, docs: Iterable[IndexDoc | Mapping[str, Any]], *, optimize: bool = True) -> int:
        """Build a new generation from ``docs`` and swap it in atomically.

        Writers wait (up to their timeout) while the rebuild runs, so no update is lost into the
        old generation. Searchers that are open keep reading the old generation until they refresh.
        On any error the old generation stays current.

        Args:
            docs: every document the index should contain (an iterable; consumed once).
            optimize: merge into one segment (faster searches).

        Returns:
            The number of documents indexed.

        Raises:
            ValueError: a document is invalid (the old index stays).
            IndexBusyError: another writer held the lock longer than ``writer_timeout``.
        """
        self.create_or_open()
        old_gen, old_writer = self._writer()
        new_gen = None
        try:
            self._remove_stale_generations(keep=old_gen)
            new_gen = self._new_generation()
            ix = whoosh.index.create_in(str(new_gen), make_schema())
            writer = ix.writer(limitmb=WRITER_LIMIT_MB)
            count = 0
            try:
                for value in docs:
                    doc = IndexDoc.coerce(value)
                    doc.validate()
                    writer.add_document(**doc.fields())
                    count += 1
            except BaseException:
                writer.cancel()
                raise
            writer.commit(optimize=optimize)
            self._point_current_to(new_gen)
        except BaseException:
            if new_gen is not None:
                shutil.rmtree(new_gen, ignore_errors=True)
            raise
        finally:
            old_writer.cancel()
        # Open readers keep their file handles; removing the directory only frees the space later.
        shutil.rmtree(old_gen, ignore_errors=True)
        return count

    def _remove_stale_generations(self, keep: Path) -> None:
        """Remove generations left by crashed rebuilds (caller holds the current write lock)."""
        for entry in self.path.iterdir():
            if entry.is_dir() and entry.name.startswith(_GEN_PREFIX) and entry.name != keep.name:
                shutil.rmtree(entry, ignore_errors=True)

    def optimize(self) -> None:
        """Merge all segments into one (faster searches after many small updates)."""
        _, writer = self._writer()
        writer.commit(optimize=True)

    # reading

    def doc_count(self) -> int:
        """Number of documents in the current generation."""
        with self.searcher() as searcher:
            return searcher.doc_count()

    def searcher(self) -> "Searcher":
        """Open a ``Searcher`` (close it, or use it as a context manager)."""
        return Searcher(self)

    def search(self, query_string: str, **options) -> "SearchPage":
        """Search with a short-lived searcher; see ``Searcher.search`` for arguments and errors."""
        with self.searcher() as searcher:
            return searcher.search(query_string, **options)

    def size_bytes(self) -> int:
        """Bytes used by the current generation on disk."""
        gen = self.current_generation()
        return sum(f.stat().st_size for f in gen.iterdir() if f.is_file())


_DELETE_FIELDS = ("doc_id", "kind", "reading_id", "course_id", "lesson_id")


def _check_delete_field(field: str) -> None:
    if field not in _DELETE_FIELDS:
        raise ValueError(f"can only delete by {', '.join(_DELETE_FIELDS)}, not {field!r}")


class Searcher:
    """A reader of a ``SearchIndex`` that follows updates and rebuilds.

    ``search`` refreshes first when the index changed, so a long-lived searcher (one per worker
    thread) always answers from the latest committed state. Not safe to share between threads.

    Args:
        index: the ``SearchIndex`` to read.

    Raises:
        EmptyIndexError: the index has not been created.
    """

    def __init__(self, index: SearchIndex):
        self.index = index
        self._lock = threading.Lock()
        self._gen: Path | None = None
        self._whoosh = None
        self._open()

    def _open(self) -> None:
        last_error: Exception | None = None
        for attempt in range(OPEN_ATTEMPTS):
            try:
                gen, ix = self.index._open_whoosh()
                searcher = ix.searcher()
            except _VANISHED as exc:
                last_error = exc
                time.sleep(0.01 * (attempt + 1))
                continue
            old, self._whoosh, self._gen = self._whoosh, searcher, gen
            if old is not None:
                old.close()
            return
        raise RuntimeError(f"could not open the search index at {self.index.path}: {last_error}")

    @property
    def generation(self) -> Path | None:
        """The generation directory this searcher reads."""
        return self._gen

    def up_to_date(self) -> bool:
        """Whether this searcher sees the latest committed state of the index."""
        try:
            return self.index.current_generation() == self._gen and self._whoosh.up_to_date()
        except _VANISHED:
            return False

    def refresh(self) -> "Searcher":
        """Reopen if the index changed (new commit or rebuilt generation); return ``self``."""
        with self._lock:
            if self.up_to_date():
                return self
            # Always a fresh whoosh searcher: whoosh's own refresh reuses the reader of a segment
            # whose deletions changed and keeps showing deleted documents (and cannot refresh a
            # searcher opened on an empty index). Per-segment caches (content.engine) survive.
            self._open()
            return self

    def doc_count(self) -> int:
        """Number of (undeleted) documents visible to this searcher."""
        return self._whoosh.doc_count()

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
        """
        if refresh:
            self.refresh()
        allowed_list = None if allowed is None else sorted({str(a) for a in allowed})
        options = dict(kinds=kinds, series=series, sectors=sectors, allowed=allowed_list,
                       page=page, pagelen=pagelen)
        try:
            return search_whoosh(self._whoosh, query_string, **options)
        except QueryError:
            raise
        except _VANISHED:
            # A segment merged away between refresh and search: reopen once and retry.
            self._open()
            return search_whoosh(self._whoosh, query_string, **options)

    def close(self) -> None:
        """Release the index files."""
        if self._whoosh is not None:
            self._whoosh.close()
            self._whoosh = None

    def __enter__(self) -> "Searcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
