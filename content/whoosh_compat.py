"""Every use of whoosh internals in ``content``, in one place, each with the public way it replaces.

whoosh (whoosh-reloaded 2.7) has no public API for what the search engine (``content.engine``)
needs to be fast, so it reaches into undocumented parts. Only this module does; each function
has a public fallback that gives the same answer, slower. ``tests/content/test_whoosh_compat.py``
checks that every fast path is taken on the installed whoosh and agrees with its fallback, so a
whoosh upgrade that changes these internals fails a test instead of silently slowing search down.

The internals, why, and the public fallback:

``SegmentReader._terms.matcher(...)`` (the codec's terms reader) — in ``term_postings``
    The postings of a term in a segment *including* documents deleted since it was written.
    ``content.engine`` caches postings per segment (segments are immutable) and shares them
    between readers, each applying its own deletions. Fallback: the public
    ``IndexReader.postings``, which leaves out the deletions of the reader that asked, so its
    result is marked ``includes_deleted=False`` and the engine keeps it for that reader only.

``W3LeafMatcher`` (``whoosh.codec.whoosh3``): ``_read_data``, ``_data``, ``_blocklength``, ``_next_block``, ``_byteids``
    A block of up to 128 postings is one pickled (id deltas, weights, values) tuple; reading
    the whole block into arrays costs a few C calls, where the ``Matcher`` protocol costs four
    Python calls per posting (most of a query's time on a 20M-character index, for bigrams in
    a large share of the documents). Positions are never decoded. Fallback: the public
    ``Matcher`` protocol (``is_active``/``id``/``weight``/``next``), also used for postings of
    another codec or inlined into their term info (which whoosh3's default settings never do).

``SegmentReader.deleted_docs_set`` — in ``deleted_docs``
    The deleted docnums of a segment as a set, read once per reader. Fallback: the public
    ``IndexReader.is_deleted`` for every docnum.

``FileStorage.folder`` and ``OverlayStorage.b`` (the index directory behind a compound segment's
storage) — in ``storage_folder``
    The directory of a segment's files: with the segment id it names a segment for the
    process-wide caches, and tells when a merge or a rebuild has removed it. Fallback: none
    (None); the engine then keeps a segment's data for one reader only, as for an in-memory index.

``Positions`` value layout (a big-endian unsigned count, then the encoded positions) — ``ArrayPositions``
    A ``grams`` format of earlier index generations; their pickled schemas name
    ``content.analysis.ArrayPositions``, which re-exports this class. whoosh's own
    ``Positions.decode_frequency``/``decode_weight`` read the count, so the layout must stay.
"""
from __future__ import annotations

import logging
from array import array
from itertools import accumulate, repeat
from typing import Any, NamedTuple

from whoosh.formats import Positions
from whoosh.system import pack_uint

try:
    from whoosh.codec.whoosh3 import W3LeafMatcher
except ImportError:  # a whoosh without the whoosh3 codec: the fallback reads the postings
    W3LeafMatcher = None

log = logging.getLogger(__name__)

#: How ``term_postings`` read a term (``TermPostings.path``).
BLOCKS = "blocks"  # fast: whole blocks of the whoosh3 codec decoded at once
MATCHER = "matcher"  # the term's raw matcher walked posting by posting (other codecs, inlined postings)
PUBLIC = "public"  # IndexReader.postings: without the reader's deleted documents
ABSENT = "absent"  # the term is not in the segment

#: Whether ``term_postings`` may decode whole blocks (tests switch it off to compare with the fallback).
BLOCK_DECODING = True

_COUNT_BYTES = len(pack_uint(0))  # the count that starts a ``Positions`` value
_warned: set[str] = set()


class TermPostings(NamedTuple):
    """The postings of one term in one segment: docnums (ascending) and weights, and how they were read."""

    ids: array[int]
    weights: array[float]
    path: str

    @property
    def includes_deleted(self) -> bool:
        """Whether documents deleted since the segment was written are included (shareable between readers)."""
        return self.path != PUBLIC


def _warn_once(what: str, exc: BaseException | None = None) -> None:
    if what not in _warned:
        _warned.add(what)
        log.warning("whoosh internals changed (%s%s); search uses the slower public API",
                    what, f": {exc!r}" if exc is not None else "")


def term_postings(segreader: Any, fieldname: str, text: str) -> TermPostings:
    """All postings of a term in one segment, deleted documents included where whoosh allows.

    Args:
        segreader: a leaf reader (``whoosh.reading.SegmentReader``) of an open index.
        fieldname: a field of the schema.
        text: the term as indexed.

    Returns:
        ``TermPostings`` (empty, ``path=ABSENT``, for a field or term the segment does not have).
    """
    if fieldname not in segreader.schema or (fieldname, text) not in segreader:
        return TermPostings(array("I"), array("f"), ABSENT)
    terms = getattr(segreader, "_terms", None)
    if terms is None or not hasattr(terms, "matcher"):
        _warn_once("SegmentReader._terms")
        return public_term_postings(segreader, fieldname, text)
    field = segreader.schema[fieldname]
    matcher = terms.matcher(fieldname, field.to_bytes(text), field.format, scorer=None)
    if BLOCK_DECODING and W3LeafMatcher is None:
        _warn_once("whoosh.codec.whoosh3.W3LeafMatcher")
    elif BLOCK_DECODING and isinstance(matcher, W3LeafMatcher) and not getattr(matcher, "_byteids", True):
        try:
            ids, weights = _decode_blocks(matcher)
        except (AttributeError, TypeError, ValueError, IndexError) as exc:
            _warn_once("W3LeafMatcher blocks", exc)
        else:
            if len(ids) == len(weights) == segreader.doc_frequency(fieldname, text):
                return TermPostings(ids, weights, BLOCKS)
            _warn_once("W3LeafMatcher blocks: wrong posting count")
        matcher = terms.matcher(fieldname, field.to_bytes(text), field.format, scorer=None)
    ids, weights = _walk(matcher)
    return TermPostings(ids, weights, MATCHER)


def _decode_blocks(matcher: Any) -> tuple[array[int], array[float]]:
    """Read every block of a ``W3LeafMatcher``: ids and weights, never the values (positions)."""
    ids, weights = array("I"), array("f")
    while matcher.is_active():
        matcher._read_data()
        deltas, block_weights = matcher._data[0], matcher._data[1]
        ids.extend(accumulate(deltas))
        if block_weights is None:  # every weight 1.0
            weights.extend(repeat(1.0, matcher._blocklength))
        elif isinstance(block_weights, float):  # one weight for the whole block
            weights.extend(repeat(block_weights, matcher._blocklength))
        else:
            weights.extend(block_weights)
        matcher._next_block()
    return ids, weights


def _walk(matcher: Any) -> tuple[array[int], array[float]]:
    """Read a matcher through the public ``Matcher`` protocol."""
    ids, weights = array("I"), array("f")
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return ids, weights


def public_term_postings(segreader: Any, fieldname: str, text: str) -> TermPostings:
    """The postings of a term through whoosh's public API only: without the reader's deleted documents.

    Args:
        segreader: a leaf reader of an open index.
        fieldname: a field of the schema.
        text: the term as indexed.

    Returns:
        ``TermPostings`` with ``path=PUBLIC`` (``ABSENT`` for a field or term the segment does not have).
    """
    if fieldname not in segreader.schema or (fieldname, text) not in segreader:
        return TermPostings(array("I"), array("f"), ABSENT)
    ids, weights = _walk(segreader.postings(fieldname, text))
    return TermPostings(ids, weights, PUBLIC)


def deleted_docs(segreader: Any) -> frozenset[int]:
    """Docnums deleted in a leaf reader.

    Args:
        segreader: a leaf reader of an open index.

    Returns:
        The deleted docnums (empty when the segment has no deletions).
    """
    if not segreader.has_deletions():
        return frozenset()
    deleted = getattr(segreader, "deleted_docs_set", None)
    if isinstance(deleted, frozenset | set):
        return frozenset(deleted)
    _warn_once("SegmentReader.deleted_docs_set")
    return public_deleted_docs(segreader)


def public_deleted_docs(segreader: Any) -> frozenset[int]:
    """``deleted_docs`` through whoosh's public API: ``is_deleted`` for every docnum.

    Args:
        segreader: a leaf reader of an open index.
    """
    return frozenset(d for d in range(segreader.doc_count_all()) if segreader.is_deleted(d))


def storage_folder(storage: Any) -> str | None:
    """The directory holding a segment's files, or None (in-memory index, or unknown storage).

    Args:
        storage: ``segreader.storage()`` of a leaf reader.
    """
    while storage is not None and not hasattr(storage, "folder"):
        storage = getattr(storage, "b", None)  # OverlayStorage of a compound segment
    folder = getattr(storage, "folder", None)
    return str(folder) if folder else None


class ArrayPositions(Positions):
    """Positions stored as a plain unsigned-int array instead of pickled deltas.

    The ``grams`` format of earlier index generations (kept so that they still open): decoding
    is one C call instead of a Python loop per position.
    """

    def encode(self, poslist: list[int]) -> bytes:
        """The stored value of a term's positions in one document: count, then the array."""
        return pack_uint(len(poslist)) + array("I", poslist).tobytes()

    def decode_positions(self, valuestring: bytes) -> array[int]:
        """The positions of a value written by ``encode``."""
        return array("I", valuestring[_COUNT_BYTES:])
