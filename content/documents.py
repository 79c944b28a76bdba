"""What the search index holds: its whoosh schema, ``IndexDoc``, and documents built from readings and subtitles.

Fields (one whoosh document per reading chunk, course, lesson or subtitle chunk):

* ``title``/``body``: jieba words (stored) — the word index and BM25 ranking;
* ``grams``: character bigrams of "title\\nbody" — postings only (no positions), used to find
  candidate documents and to answer two-character texts exactly (a single character is looked
  for in every text: a C-speed scan, cheaper than the postings of a common character);
* ``text``: ``fold("title\\nbody")`` in an uncompressed column — what exact matching checks;
* ids, ``anchor(s)``, and the filter keywords ``kind``/``series``/``sectors``/``audience``.

Long texts are cut into chunks of about ``CHUNK_CHARS`` characters, each remembering where its
lines (paragraphs, headings, subtitle cues) start, so a hit can link to the place of the match.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema

from .analysis import BigramAnalyzer, ChineseAnalyzer, fold
from .reading import Reading

#: Kinds of indexed documents.
KINDS = ("reading", "course", "lesson", "subtitle")
#: Target size of one indexed chunk of a long text, in characters.
CHUNK_CHARS = 1500

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

    def fields(self) -> dict[str, Any]:
        """The whoosh field values of this document (for ``writer.update_document(**fields)``)."""
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
