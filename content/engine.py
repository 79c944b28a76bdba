"""Fast query evaluation over a whoosh index: document sets from raw postings, exact text checks
against an in-memory copy of each segment's folded text, BM25 ranking of the requested page only.

Why not whoosh's own matchers: a phrase query over bigram positions walks every candidate
document through several Python matcher objects and decodes positions per document; for terms in
30–90 % of the documents that cost 0.2–2 s per query on a 20M-character index. Here:

* a term's postings are decoded block by block straight from the segment (ids and weights only,
  never positions; the whoosh internals this takes are in ``content.whoosh_compat``) into an
  ``array`` and cached per segment;
* a text of 3+ characters takes the documents containing its rarest bigrams as candidates and
  keeps those whose folded text contains it (``str.__contains__``, well under a microsecond per
  document); a text of 2 characters is answered by the ``grams`` postings exactly, a single
  character by looking for it in every text (``str.__contains__`` over all texts takes a few
  milliseconds for 20M characters, less than decoding a common character's postings);
* the folded text of every document is read once per segment and process from the ``text``
  column (uncompressed bytes; old indexes without it fall back to the stored title and body)
  and kept in memory (about 2 bytes per character for Chinese);
* only the documents that match are scored (BM25 over the ``grams`` postings of the query's
  bigrams, from the same cached postings), and only the requested page is highlighted.

Only the ``grams`` postings and the ``text`` column are read: the jieba word fields ``title`` and
``body`` may be stored-only (newer generations) or indexed (older ones); neither is needed.

Segments are immutable in whoosh, so everything cached per segment id stays valid until the
segment is merged away; deletions are applied per reader. Caches are per process, bounded, and
shared by threads under a lock (a racing thread may load the same thing twice, harmlessly).

Ranking (``top_docs``; a PostgreSQL backend is to compute the same formula in SQL): a matching
document d of a query q scores (higher first; equal scores: lower docnum first)

    score(d) = PHRASE_BONUS * #{e in E(q) : e occurs in text(d)}
             + TITLE_BONUS  * #{e in E(q) : e occurs in title(d)}
             + bm25(d) / (bm25(d) + BM25_SATURATION)

    bm25(d)  = max(0, sum over g in G(q) of idf(g) * tf(g, d) * (BM25_K1 + 1)
                      / (tf(g, d) + BM25_K1 * (1 - BM25_B + BM25_B * len(d) / avglen)))
    idf(g)   = ln(N / (df(g) + 1)) + 1

* text(d) is the folded "title\\nbody" (the ``text`` column); title(d) is text(d) before its first
  "\\n" (all of it if there is none); "occurs" is plain substring containment.
* E(q), the exact texts (``RankSpec.texts``, distinct): for every positive word or phrase of the
  query (not under a NOT) its ``content.query.exact_text`` (folded, inner whitespace collapsed),
  and for every AND of two or more words/phrases with no nested AND/OR, those exact texts joined
  in typed order (with a space only between two ASCII letters/digits: "党员 教育" -> "党员教育",
  "party school" -> "party school"), so the query text as typed counts once more.
* G(q), the bigrams (``RankSpec.grams``, distinct): the overlapping bigrams of every run
  (``content.analysis.text_runs``) of every positive word or phrase.
* tf(g, d): occurrences of g in the ``grams`` postings of d; len(d): the ``grams`` field length of
  d (bigrams in it); avglen: total ``grams`` length / number of documents (deleted included, as
  whoosh counts); N: live documents; df(g): documents with g (deleted included, as whoosh counts).

Because |E(q)| <= 2 * MAX_QUERY_TERMS < PHRASE_BONUS / TITLE_BONUS and the saturated BM25 part is
in [0, 1) < TITLE_BONUS, the order is lexicographic: more exact texts found first, then more of
them in the title, then BM25.
"""
from __future__ import annotations

import heapq
import math
import os
import threading
import weakref
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Sized
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from . import whoosh_compat
from .analysis import bigrams, fold, query_words, text_runs
from .query import BoolNode, NotNode, QueryNode, TextNode, exact_text

#: Segments whose data (texts, postings) a process keeps.
MAX_SEGMENTS = 64
#: Postings (document entries) kept per segment: about 8 bytes each.
MAX_POSTINGS_PER_SEGMENT = 4_000_000
#: Entries of the document sets kept per open reader: about 60 bytes each.
MAX_SET_ENTRIES_PER_READER = 500_000
#: Entries of the BM25 weight tables kept per open reader: about 100 bytes each.
MAX_WEIGHT_ENTRIES_PER_READER = 300_000
#: Bigrams of a text whose postings give its candidates (the rarest ones).
CANDIDATE_GRAMS = 3
#: Above this share of all documents a bigram's postings are not worth decoding for candidates:
#: every document is checked against the text instead.
DENSE_SHARE = 0.6

# --- ranking ------------------------------------------------------------------------------------
#: Score for each exact text of the query found in the document (see the module docstring).
PHRASE_BONUS = 100.0
#: Score for each exact text of the query found in the document's title (see the module docstring).
TITLE_BONUS = 1.0
#: k of bm25 / (bm25 + k): maps BM25 into [0, 1), below any bonus, keeping its order.
BM25_SATURATION = 1.0
BM25_B = 0.75
BM25_K1 = 1.2

#: Name of the column holding the folded "title\\nbody" text (see ``content.documents.make_schema``).
TEXT_COLUMN = "text"

_K = TypeVar("_K")
_V = TypeVar("_V")
#: A term's postings in one segment: docnums (ascending) and their weights.
Postings: TypeAlias = "tuple[array[int], array[float]]"

_lock = threading.Lock()
_segments: OrderedDict[str, _SegmentData] = OrderedDict()
_views: weakref.WeakKeyDictionary[Any, ReaderView] = weakref.WeakKeyDictionary()


class _LRU(OrderedDict[_K, _V]):
    """Least-recently-used mapping bounded by the total size (``len``) of its values."""

    def __init__(self, maxcost: int):
        super().__init__()
        self.maxcost = maxcost
        self.cost = 0

    def get_item(self, key: _K) -> _V | None:
        try:
            value = self[key]
        except KeyError:
            return None
        self.move_to_end(key)
        return value

    def put(self, key: _K, value: _V) -> _V:
        old = self.pop(key, None)
        if old is not None:
            self.cost -= _cost(old)
        self[key] = value
        self.cost += _cost(value)
        while self.cost > self.maxcost and len(self) > 1:
            _, evicted = self.popitem(last=False)
            self.cost -= _cost(evicted)
        return value

    def clear(self) -> None:
        super().clear()
        self.cost = 0


def _cost(value: object) -> int:
    # Postings are (ids, weights) pairs; sets and weight tables count their entries.
    if isinstance(value, tuple):
        return 1 + len(value[0])
    return 1 + (len(value) if isinstance(value, Sized) else 0)


def clear_caches(*, keep_texts: bool = False) -> None:
    """Forget cached postings, document sets and weights, and the texts unless ``keep_texts``.

    Benchmarks use it to time queries the process has not seen before.

    Args:
        keep_texts: keep the folded texts of the segments (the costly part to load).
    """
    with _lock:
        if keep_texts:
            for data in _segments.values():
                data.postings.clear()
        else:
            _segments.clear()
        _views.clear()


class _SegmentData:
    """What is cached for one (immutable) segment: postings and folded texts by segment docnum."""

    def __init__(self, key: str):
        self.key = key
        self.postings: _LRU[tuple[str, str], Postings] = _LRU(MAX_POSTINGS_PER_SEGMENT)
        self.texts: list[str] | None = None
        self.lengths: dict[str, array[float]] = {}

    def raw_postings(self, segreader: Any, fieldname: str, text: str) -> Postings:
        """(docnums, weights) of a term in this segment, deleted documents included where whoosh allows.

        Postings without the reader's deleted documents (whoosh's public fallback, see
        ``content.whoosh_compat``) are not cached here: another reader may have other deletions.
        """
        key = (fieldname, text)
        with _lock:
            found = self.postings.get_item(key)
        if found is not None:
            return found
        postings = whoosh_compat.term_postings(segreader, fieldname, text)
        if not postings.includes_deleted:
            return postings.ids, postings.weights
        with _lock:
            return self.postings.put(key, (postings.ids, postings.weights))

    def folded_texts(self, segreader: Any) -> list[str]:
        """Folded "title\\nbody" of every document of the segment by docnum (deleted ones included)."""
        texts = self.texts
        if texts is None:
            n = segreader.doc_count_all()
            if TEXT_COLUMN in segreader.schema and segreader.schema[TEXT_COLUMN].column_type is not None \
                    and segreader.has_column(TEXT_COLUMN):
                column = segreader.column_reader(TEXT_COLUMN, translate=False)
                texts = [bytes(column[d]).decode("utf-8") for d in range(n)]
            else:  # an index written before the text column existed
                texts = []
                for d in range(n):
                    stored = segreader.stored_fields(d) if not segreader.is_deleted(d) else {}
                    texts.append(fold(f"{stored.get('title', '')}\n{stored.get('body', '')}"))
            self.texts = texts
        return texts

    def field_lengths(self, segreader: Any, fieldname: str) -> array[float]:
        """Length in words of the field of every document of the segment by docnum (for BM25)."""
        lengths = self.lengths.get(fieldname)
        if lengths is None:
            length = segreader.doc_field_length
            lengths = array("f", (length(d, fieldname, 0) or 0 for d in range(segreader.doc_count_all())))
            self.lengths[fieldname] = lengths
        return lengths


def _segment_data(segreader: Any) -> _SegmentData:
    folder = whoosh_compat.storage_folder(segreader.storage())
    if folder is None:
        # In-memory index: no stable identity to cache under (whoosh names segments with the
        # ``random`` module, which tests may seed); the data lives as long as the reader view.
        return _SegmentData("")
    segment_id = segreader.segment().segment_id()
    # Generation directories are unique (time + uuid) and segments immutable within them.
    key = f"{folder}\0{segment_id}\0{segreader.doc_count_all()}"
    with _lock:
        data = _segments.get(key)
        if data is not None:
            _segments.move_to_end(key)
            return data
        _drop_vanished_segments()
        data = _segments[key] = _SegmentData(key)
        while len(_segments) > MAX_SEGMENTS:
            _segments.popitem(last=False)
        return data


def _drop_vanished_segments() -> None:
    """Forget segments merged away or in removed generations (their texts are the big part).

    Called, under the lock, only when a new segment is first seen.
    """
    listings: dict[str, set[str]] = {}
    for key in list(_segments):
        folder, segment_id, _ = key.split("\0")
        if folder not in listings:
            try:
                listings[folder] = {name.split(".", 1)[0] for name in os.listdir(folder)}
            except OSError:
                listings[folder] = set()
        if segment_id not in listings[folder]:
            del _segments[key]


class ReaderView:
    """Document sets, texts and term weights of one open whoosh reader, by global docnum."""

    def __init__(self, reader: Any):
        self.reader = reader
        #: (leaf reader, docnum offset, its segment's data, its deleted docnums) per segment.
        self.leaves: list[tuple[Any, int, _SegmentData, frozenset[int]]] = []
        for segreader, offset in reader.leaf_readers():
            if segreader.segment() is None:
                continue  # the reader of an empty index
            self.leaves.append((segreader, offset, _segment_data(segreader), whoosh_compat.deleted_docs(segreader)))
        self.doc_count: int = reader.doc_count()
        self._sets: _LRU[tuple[str, ...], frozenset[int]] = _LRU(MAX_SET_ENTRIES_PER_READER)
        self._weights: _LRU[tuple[str, str], dict[int, float]] = _LRU(MAX_WEIGHT_ENTRIES_PER_READER)
        self._texts: list[str] | None = None
        self._all: frozenset[int] | None = None

    # document sets

    def all_docs(self) -> frozenset[int]:
        """Live global docnums of every document."""
        if self._all is None:
            docs: set[int] = set()
            for segreader, offset, _, deleted in self.leaves:
                docs.update(offset + d for d in range(segreader.doc_count_all()) if d not in deleted)
            self._all = frozenset(docs)
        return self._all

    def doc_frequency(self, fieldname: str, text: str) -> int:
        """Documents with the term in all segments, deleted ones included (whoosh's own count).

        Args:
            fieldname: a field of the schema (0 for a field a segment does not have).
            text: the term as indexed.
        """
        return sum(seg.doc_frequency(fieldname, text) for seg, _, _, _ in self.leaves
                   if fieldname in seg.schema)

    def term_docs(self, fieldname: str, text: str) -> frozenset[int]:
        """Live global docnums of documents with the term.

        Args:
            fieldname: a field of the schema.
            text: the term as indexed.
        """
        key = ("term", fieldname, text)
        found = self._sets.get_item(key)
        if found is None:
            docs: set[int] = set()
            for segreader, offset, data, deleted in self.leaves:
                ids = data.raw_postings(segreader, fieldname, text)[0]
                docs.update([offset + d for d in ids] if offset else ids)
                if deleted:
                    docs.difference_update(offset + d for d in deleted)
            found = self._sets.put(key, frozenset(docs))
        return found

    def texts(self) -> list[str]:
        """Folded "title\\nbody" of every document by global docnum ("" for none)."""
        if self._texts is None:
            if len(self.leaves) == 1 and self.leaves[0][1] == 0:
                self._texts = self.leaves[0][2].folded_texts(self.leaves[0][0])
            else:
                texts: list[str] = []
                for segreader, offset, data, _ in self.leaves:
                    texts.extend([""] * (offset - len(texts)))
                    texts.extend(data.folded_texts(segreader))
                self._texts = texts
        return self._texts

    def run_docs(self, run: str) -> frozenset[int]:
        """Documents whose folded text contains ``run``.

        Args:
            run: a folded run of word characters (see ``content.analysis.text_runs``).
        """
        if len(run) == 2:
            return self.term_docs("grams", run)
        key = ("run", run)
        found = self._sets.get_item(key)
        if found is not None:
            return found
        if len(run) == 1:
            texts = self.texts()
            return self._sets.put(key, frozenset(d for d in self.all_docs() if run in texts[d]))
        grams = sorted(set(bigrams(run)), key=lambda g: self.doc_frequency("grams", g))
        if not grams or self.doc_frequency("grams", grams[0]) == 0:
            return self._sets.put(key, frozenset())
        candidates: Iterable[int]
        if self.doc_frequency("grams", grams[0]) > DENSE_SHARE * max(1, self.doc_count):
            candidates = self.all_docs()
        else:
            candidates = self.term_docs("grams", grams[0])
            for gram in grams[1:CANDIDATE_GRAMS]:
                if self.doc_frequency("grams", gram) > DENSE_SHARE * self.doc_count:
                    break
                candidates = candidates & self.term_docs("grams", gram)
        texts = self.texts()
        return self._sets.put(key, frozenset(d for d in candidates if run in texts[d]))

    # ranking

    def term_weights(self, fieldname: str, text: str) -> dict[int, float]:
        """BM25 weight of the term in each live document that has it.

        Args:
            fieldname: a scorable field (``body``, ``title``, ``grams``).
            text: the term as indexed.
        """
        key = (fieldname, text)
        found = self._weights.get_item(key)
        if found is not None:
            return found
        weights: dict[int, float] = {}
        df = self.doc_frequency(fieldname, text)
        if df:
            idf = math.log(self.doc_count / (df + 1)) + 1.0 if self.doc_count else 1.0
            avg = (self.reader.field_length(fieldname) / max(1, self.reader.doc_count_all())) or 1.0
            for segreader, offset, data, deleted in self.leaves:
                ids, tfs = data.raw_postings(segreader, fieldname, text)
                lengths = data.field_lengths(segreader, fieldname)
                for d, tf in zip(ids, tfs, strict=True):
                    if d in deleted:
                        continue
                    norm = BM25_K1 * ((1 - BM25_B) + BM25_B * lengths[d] / avg)
                    weights[offset + d] = idf * (tf * (BM25_K1 + 1)) / (tf + norm)
        return self._weights.put(key, weights)


def reader_view(reader: Any) -> ReaderView:
    """The (cached) view of an open whoosh reader.

    Args:
        reader: ``searcher.reader()`` of an open whoosh searcher; the view lives as long as it.
    """
    with _lock:
        view = _views.get(reader)
    if view is None:
        view = ReaderView(reader)
        with _lock:
            _views[reader] = view
    return view


# --- query evaluation -------------------------------------------------------------------------

def evaluate(view: ReaderView, node: QueryNode) -> tuple[bool, frozenset[int]]:
    """Evaluate a syntax tree of ``content.query``: (positive?, documents).

    A negative result (a NOT, or an AND of NOTs only) means "every document except these"; the
    parser guarantees that the whole query is positive.

    Args:
        view: the reader view to evaluate on.
        node: ``ParsedQuery.tree`` or a node of it.
    """
    if isinstance(node, TextNode):
        return True, text_docs(view, node.text, node.phrase)
    if isinstance(node, NotNode):
        positive, docs = evaluate(view, node.child)
        return (not positive), docs
    results = [evaluate(view, child) for child in node.children]
    positives = [docs for positive, docs in results if positive]
    negatives = [docs for positive, docs in results if not positive]
    if node.op == "OR":
        return True, frozenset().union(*positives)
    if not positives:
        return False, frozenset().union(*negatives)
    positives.sort(key=len)
    found = set(positives[0])
    for other in positives[1:]:
        found &= other
    for other in negatives:
        found -= other
    return True, frozenset(found)


def _exact_docs(view: ReaderView, candidates: frozenset[int], literal: str, runs: list[str]) -> frozenset[int]:
    """The candidates whose folded text contains ``literal`` (a phrase with punctuation or spaces)."""
    if len(runs) == 1 and runs[0] == literal:
        return candidates  # run_docs already checked exactly this text
    key = ("exact", literal)
    found = view._sets.get_item(key)
    if found is None:
        texts = view.texts()
        found = view._sets.put(key, frozenset(d for d in candidates if literal in texts[d]))
    return found


def text_docs(view: ReaderView, text: str, phrase: bool) -> frozenset[int]:
    """Documents matching one query word or phrase (see the module docstring of ``content.query``).

    Args:
        view: the reader view to search.
        text: the word or phrase as typed.
        phrase: quoted (exactly its ``content.query.exact_text``, punctuation included), or not
            (each run of it as text, or its jieba words apart).
    """
    runs = sorted((run for _, run in text_runs(text)), key=len, reverse=True)
    docs: frozenset[int] | None = None
    for run in runs:
        found = view.run_docs(run)
        docs = found if docs is None else docs & found
        if not docs:
            break
    docs = docs or frozenset()
    if phrase:
        return _exact_docs(view, docs, exact_text(text), runs)
    words = query_words(text)
    if len(words) < 2:
        return docs
    # An unquoted compound also matches where its words occur apart: each word is looked for as
    # text (its bigrams, then the folded text), never in the jieba word postings, which newer
    # indexes do not have.
    apart: frozenset[int] | None = None
    for word in sorted(words, key=len, reverse=True):
        found = view.run_docs(word)
        apart = found if apart is None else apart & found
        if not apart:
            break
    return docs | (apart or frozenset())


@dataclass(frozen=True)
class RankSpec:
    """What ranking needs from a query (see the module docstring): ``grams`` G(q) and exact ``texts`` E(q)."""

    grams: tuple[str, ...]
    texts: tuple[str, ...]


def _join_exact(texts: list[str]) -> str:
    joined = texts[0]
    for text in texts[1:]:
        # Chinese is written without spaces between words; Latin words keep one.
        ascii_pair = joined[-1:].isascii() and joined[-1:].isalnum() and text[:1].isascii() and text[:1].isalnum()
        joined += (" " if ascii_pair else "") + text
    return joined


def _collect(node: QueryNode, grams: list[str], texts: list[str]) -> None:
    if isinstance(node, NotNode):
        return
    if isinstance(node, TextNode):
        runs = text_runs(node.text)
        if runs:
            texts.append(exact_text(node.text))
            for _, run in runs:
                grams.extend(bigrams(run))
        return
    for child in node.children:
        _collect(child, grams, texts)
    if node.op == "AND" and not any(isinstance(c, BoolNode) for c in node.children):
        words = [exact_text(c.text) for c in node.children if isinstance(c, TextNode) and text_runs(c.text)]
        if len(words) >= 2:
            texts.append(_join_exact(words))


def rank_spec(node: QueryNode) -> RankSpec:
    """The bigrams and exact texts a query is ranked by (see the module docstring).

    Args:
        node: ``ParsedQuery.tree``.
    """
    grams: list[str] = []
    texts: list[str] = []
    _collect(node, grams, texts)
    return RankSpec(grams=tuple(dict.fromkeys(grams)), texts=tuple(dict.fromkeys(texts)))


def bm25_scores(view: ReaderView, docs: frozenset[int] | set[int], grams: Iterable[str]) -> dict[int, float]:
    """bm25(d) of the module docstring for each of ``docs`` (0.0 where no bigram occurs).

    Args:
        view: the reader view the docnums belong to.
        docs: the documents to score.
        grams: the query's bigrams G(q).
    """
    scores = dict.fromkeys(docs, 0.0)
    for gram in grams:
        weights = view.term_weights("grams", gram)
        if not weights:
            continue
        if len(weights) < len(scores):
            for d, w in weights.items():
                if d in scores:
                    scores[d] += w
        else:
            get = weights.get
            for d in scores:
                weight = get(d)
                if weight:
                    scores[d] += weight
    return scores


def top_docs(view: ReaderView, docs: frozenset[int] | set[int], spec: RankSpec,
             limit: int) -> list[tuple[int, float]]:
    """The ``limit`` best (docnum, score) of ``docs``, best first (ties: lower docnum first).

    Scores are those of the module docstring's formula.

    Args:
        view: the reader view the docnums belong to.
        docs: the matching documents.
        spec: ``rank_spec`` of the query.
        limit: how many to return.
    """
    scores = bm25_scores(view, docs, spec.grams)
    texts = view.texts()
    exact = spec.texts
    for d, bm25 in scores.items():
        bm25 = max(0.0, bm25)
        score = bm25 / (bm25 + BM25_SATURATION)
        if exact:
            text = texts[d]
            title_end = text.find("\n")
            if title_end == -1:
                title_end = len(text)
            for item in exact:
                at = text.find(item)
                if at != -1:
                    # The first occurrence is in the title if any is: the title is the text's prefix.
                    score += PHRASE_BONUS + (TITLE_BONUS if at + len(item) <= title_end else 0.0)
        scores[d] = score
    return heapq.nsmallest(limit, scores.items(), key=lambda item: (-item[1], item[0]))
