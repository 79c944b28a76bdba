"""What the search index holds: its whoosh schema, ``IndexDoc``, and documents built from readings and subtitles.

Fields (one whoosh document per reading chunk, course, lesson or subtitle chunk):

* ``title``/``body``: stored only, for results and snippets (generations written before format 2
  also indexed their jieba words; matching and ranking never needed them);
* ``grams``: character bigrams of "title\\nbody" — postings only (no positions) and field lengths:
  the candidates of exact matching, the exact answer for two-character texts (a single character
  is looked for in every text: a C-speed scan, cheaper than the postings of a common character),
  and BM25 ranking;
* ``text``: ``fold("title\\nbody")`` in an uncompressed column — what exact matching checks;
* ids, ``anchor(s)``, and the filter keywords ``kind``/``series``/``sectors``/``audience``.

``prepare_grams`` computes the ``grams`` postings and ``text`` values of many documents at once
without whoosh (a rebuild runs it in worker processes); whoosh's own analyzer path
(``IndexDoc.fields``, used by incremental updates) indexes exactly the same terms.

Every generation records ``format_stamp()`` (``FORMAT_VERSION`` and a fingerprint of the text
analysis), so a generation written by older code or with other analysis is known to need a rebuild.

Long texts are cut into chunks of about ``CHUNK_CHARS`` characters, each remembering where its
lines (paragraphs, headings, subtitle cues) start, so a hit can link to the place of the match.
"""
from __future__ import annotations

import hashlib
import pickle
import re
import sys
import threading
import traceback
import unicodedata
from array import array
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from operator import add
from typing import Any

from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema

from . import whoosh_compat
from .analysis import BigramAnalyzer, fold, text_runs
from .reading import Reading

#: Kinds of indexed documents.
KINDS = ("reading", "course", "lesson", "subtitle")
#: Target size of one indexed chunk of a long text, in characters.
CHUNK_CHARS = 1500
#: Version of what a generation holds (fields, their analysis, how terms are made). Bump it
#: whenever a change means existing generations must be rebuilt. 1: jieba word fields (and the
#: generations before any version was written); 2: ``title``/``body`` stored only.
FORMAT_VERSION = 2
#: Field of the bigram postings and of the folded text (see the module docstring).
GRAMS_FIELD = "grams"
TEXT_FIELD = "text"

# Joins the runs of a text: a bigram containing it crosses a run boundary and is not indexed.
# It is never inside a run (runs are letters, digits and CJK characters only).
_RUN_JOIN = "\0"
_fingerprint_lock = threading.Lock()
_fingerprint: str | None = None

#: Where a document starts or a line of it points: a paragraph or section id, or start seconds.
Anchor = str | int | float

_SENTENCE_END_RE = re.compile(r"(?<=[。！？!?；;])")


def make_schema() -> Schema:
    """The index schema (see the module docstring).

    Returns:
        A new whoosh ``Schema``; every generation of the index is created with it.
    """
    return Schema(
        doc_id=ID(stored=True, unique=True),
        kind=ID(stored=True),
        # Stored only: nothing matches or ranks by jieba words (indexing them took a third of
        # the build time). Generations of format 1 have them indexed; they still open.
        title=STORED,
        body=STORED,
        # Title and body text as bigrams (no positions): candidate documents for exact-text
        # matching, the exact answer for two-character texts, and BM25 (term frequencies and
        # field lengths). (Indexes written before also have ``chars``, single characters; it is
        # no longer written or read.) ``prepare_grams`` computes the same postings in bulk.
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
    anchor: Anchor | None = None
    anchors: Sequence[tuple[int, Anchor]] = ()
    series: Sequence[str] = ()
    sectors: Sequence[str] = ()
    audience: Sequence[str] = ()

    @classmethod
    def coerce(cls, value: IndexDoc | Mapping[str, Any]) -> IndexDoc:
        """Accept an ``IndexDoc`` or a plain dict with the same keys.

        Args:
            value: an ``IndexDoc`` (returned as is) or a mapping of its field names to values.

        Raises:
            ValueError: the mapping has keys that are not ``IndexDoc`` fields.
            TypeError: ``value`` is neither an ``IndexDoc`` nor a mapping.
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - set(cls.__dataclass_fields__)
            if unknown:
                raise ValueError(f"unknown IndexDoc fields: {', '.join(sorted(unknown))}")
            return cls(**value)
        raise TypeError(f"expected IndexDoc or dict, got {type(value).__name__}")

    def validate(self) -> None:
        """Check that the document can be indexed.

        Raises:
            ValueError: empty ``doc_id``, unknown ``kind``, or a filter token list that is a
                string or holds an empty token or one with a comma.
        """
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

    @property
    def text(self) -> str:
        """"title\\nbody": the text that is matched (folded in the ``text`` column, bigrams in ``grams``)."""
        return f"{self.title}\n{self.body}"

    def fields(self) -> dict[str, Any]:
        """The whoosh field values of this document (for ``writer.update_document(**fields)``).

        ``grams`` is the text itself, for the field's analyzer; ``stored_fields`` leaves out the
        ``grams`` and ``text`` values for writers that take them from ``prepare_grams``.
        """
        text = self.text
        values = self.stored_fields()
        values[GRAMS_FIELD] = text
        values[TEXT_FIELD] = fold(text).encode("utf-8")
        return values

    def stored_fields(self) -> dict[str, Any]:
        """The whoosh field values of this document except ``grams`` and ``text``."""
        values: dict[str, Any] = {
            "doc_id": str(self.doc_id),
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
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


# --- bulk analysis -------------------------------------------------------------------------

@dataclass
class PreparedGrams:
    """The ``grams`` postings and ``text`` values of consecutive documents (see ``prepare_grams``).

    Attributes:
        first_docnum: docnum of the first document.
        postings: bigram -> (docnums ascending, frequencies), one entry per document having it.
        lengths: number of bigrams of each document (the ``grams`` field length), in order.
        texts: ``fold(text)`` of each document as UTF-8 (the ``text`` column), in order.
    """

    first_docnum: int
    postings: dict[str, tuple[array[int], array[int]]]
    lengths: array[int]
    texts: list[bytes]


def gram_counts(text: str) -> Counter[str]:
    """The bigrams of a text and how often each occurs, exactly as the ``grams`` field indexes them.

    The overlapping bigrams of each run of ``content.analysis.text_runs(text)``; the runs are
    joined with a character no run contains and every pair of neighbouring characters is
    counted at C speed, then the pairs that cross a join are dropped.

    Args:
        text: the document's "title\\nbody" (or any text; it is folded by ``text_runs``).

    Returns:
        bigram -> number of occurrences (the field length is the sum of the counts).
    """
    joined = _RUN_JOIN.join([run for _, run in text_runs(text)])
    counts = Counter(map(add, joined, joined[1:]))
    for gram in [gram for gram in counts if _RUN_JOIN in gram]:
        del counts[gram]
    return counts


def prepare_grams(texts: Sequence[str], first_docnum: int = 0) -> PreparedGrams:
    """Postings of the ``grams`` field and ``text`` values of documents numbered from ``first_docnum``.

    A pure function of its arguments (no whoosh, no shared state): a rebuild calls it in worker
    processes, one batch of documents at a time, so that the writing process does no work per
    bigram. Grouping the postings by bigram also runs at C speed (``map`` of ``list.append``).

    Args:
        texts: "title\\nbody" of each document (``IndexDoc.text``), in docnum order.
        first_docnum: docnum of ``texts[0]`` in the segment being written.

    Returns:
        ``PreparedGrams`` of the documents.
    """
    ids: defaultdict[str, list[int]] = defaultdict(list)
    freqs: defaultdict[str, list[int]] = defaultdict(list)
    lengths = array("I")
    folded: list[bytes] = []
    for docnum, text in enumerate(texts, start=first_docnum):
        counts = gram_counts(text)
        grams = counts.keys()
        # ``list.append`` mapped over the lists of the document's bigrams: no Python loop per posting.
        deque(map(list.append, map(ids.__getitem__, grams), repeat(docnum)), maxlen=0)
        deque(map(list.append, map(freqs.__getitem__, grams), counts.values()), maxlen=0)
        lengths.append(sum(counts.values()))
        folded.append(fold(text).encode("utf-8"))
    postings = {gram: (array("I", docnums), array("I", freqs[gram])) for gram, docnums in ids.items()}
    return PreparedGrams(first_docnum, postings, lengths, folded)


def serve_build_tasks() -> None:
    """Run a rebuild's tasks for a parent process until its input ends (a rebuild's worker process).

    Reads requests from standard input and writes replies to standard output, each a pickle
    preceded by its length (8 bytes, big-endian): a request is ``(task name, arguments)``, the
    task ``prepare_grams`` or ``content.whoosh_compat.encode_blocks``; a reply ``("ok", result)``
    or ``("error", traceback text)``. Anything printed goes to standard error instead, so that
    it cannot corrupt the replies. ``content.store`` starts these workers as ``python -c``
    commands: unlike ``multiprocessing``, that never runs the parent's main module again in the
    worker (a script without a ``__name__ == "__main__"`` guard would otherwise rebuild once more
    in every worker, and a pool would start new workers forever).
    """
    tasks: dict[str, Callable[..., Any]] = {
        "prepare_grams": prepare_grams, "encode_blocks": whoosh_compat.encode_blocks}
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr
    while True:
        header = requests.read(8)
        if len(header) < 8:
            return
        name, args = pickle.loads(_read_exactly(requests, int.from_bytes(header, "big")))
        try:
            reply: tuple[str, Any] = ("ok", tasks[name](*args))
        except Exception:  # the parent raises it; the worker serves the next request
            reply = ("error", traceback.format_exc())
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        replies.write(len(data).to_bytes(8, "big"))
        replies.write(data)
        replies.flush()


def _read_exactly(stream: Any, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError(f"expected {size} bytes, got {len(data)}")
    return bytes(data)


# --- format -------------------------------------------------------------------------------

def analysis_fingerprint() -> str:
    """A digest of how text is folded and split into runs (computed once per process).

    Folding (``content.analysis.fold``) and runs (``text_runs``) of every character of the
    Basic Multilingual Plane and of the CJK extension planes (2 and 3), and the Unicode version:
    if any of them changes, the folded texts and bigrams of existing generations no longer match
    what queries look for.
    """
    global _fingerprint
    if _fingerprint is None:
        with _fingerprint_lock:
            if _fingerprint is None:
                codes = chain(range(0xD800), range(0xE000, 0x10000), range(0x20000, 0x32400))
                probe = "".join(map(chr, codes))
                digest = hashlib.sha256(unicodedata.unidata_version.encode("ascii"))
                digest.update(fold(probe).encode("utf-8", "surrogatepass"))
                digest.update(repr(text_runs(probe)).encode("utf-8", "surrogatepass"))
                _fingerprint = digest.hexdigest()[:32]
    return _fingerprint


def format_stamp() -> dict[str, Any]:
    """What a generation written now records about its format (compare with ``==``).

    Returns:
        ``{"format": FORMAT_VERSION, "analysis": analysis_fingerprint()}``.
    """
    return {"format": FORMAT_VERSION, "analysis": analysis_fingerprint()}


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


def chunk_lines(lines: Iterable[tuple[str, Anchor]],
                chunk_chars: int = CHUNK_CHARS) -> list[tuple[str, list[tuple[int, Anchor]]]]:
    """Group (text, anchor) lines into chunks of about ``chunk_chars`` characters.

    Lines are kept whole where possible; a line longer than ``chunk_chars`` is split at sentence ends.

    Args:
        lines: (text, anchor) pairs in order.
        chunk_chars: target chunk size (a chunk exceeds it only by less than one line's worth).

    Returns:
        (body, anchors) per chunk, ``anchors`` being (offset in body, anchor) pairs.
    """
    chunks: list[tuple[str, list[tuple[int, Anchor]]]] = []
    parts: list[str] = []
    anchors: list[tuple[int, Anchor]] = []
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
                      course_id: str | int | None = None, lesson_id: str | int | None = None,
                      series: Sequence[str] = (), sectors: Sequence[str] = (), audience: Sequence[str] = (),
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

    Returns:
        The documents, in reading order (none for a reading without text).
    """
    lines: list[tuple[str, Anchor]] = []
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
                       course_id: str | int | None = None, series: Sequence[str] = (), sectors: Sequence[str] = (),
                       audience: Sequence[str] = (), chunk_chars: int = CHUNK_CHARS) -> list[IndexDoc]:
    """Index documents for a lesson's subtitles: chunks of cues, anchors being cue start seconds.

    Args:
        cues: (start seconds, text) pairs in playback order.
        lesson_id: the app's id of the lesson; doc ids are "subtitle:<lesson_id>:<n>".
        title: the lesson title shown in results.
        course_id, series, sectors, audience: copied to every chunk.
        chunk_chars: target chunk size.

    Returns:
        The documents, in playback order (none when no cue has text).
    """
    lines: list[tuple[str, Anchor]] = [(" ".join(text.split()), start) for start, text in cues
                                       if text and text.strip()]
    return [
        IndexDoc(doc_id=f"subtitle:{lesson_id}:{n}", kind="subtitle", title=title, body=body,
                 lesson_id=lesson_id, course_id=course_id, anchor=anchors[0][1], anchors=anchors,
                 series=series, sectors=sectors, audience=audience)
        for n, (body, anchors) in enumerate(chunk_lines(lines, chunk_chars), start=1)
    ]
