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

``SegmentWriter`` (``whoosh.writing``): ``_flush_segment``, ``perdocwriter``, ``fieldwriter``, ``pool``;
the ``W3PostingsWriter`` block buffer (``_ids``, ``_weights``, ``_values``, ``_minlength``,
``_maxlength``, ``_maxweight``, ``_write_block``, ``_mini_ids``, ``_mini_weights``); ``W3FieldWriter``'s
``_postfile``, ``_tindex``, ``_fieldid``; ``W3TermInfo._offset``; the codec's block settings — ``BulkSegmentWriter``
    A rebuild's bigram postings, computed in worker processes (``content.documents.prepare_grams``),
    are written block by block: whoosh's own block encoder is handed 128 postings at a time
    (``encode_blocks``, which may run in worker processes too, into memory; the bytes are then
    appended to the postings file and the term infos moved to where they landed), where
    whoosh's writer spends about 5 µs of Python per posting (the posting pool, its sort and
    merge, a field length lookup and the block buffer), most of the build time. Field lengths
    go through the per-document writer's ``add_field``. The files are byte for byte what
    whoosh's writer makes of the same documents (tested). Fallback: whoosh's ``add_document``
    with the field's own analyzer (``bulk_supported`` says which applies).

``Positions`` value layout (a big-endian unsigned count, then the encoded positions) — ``ArrayPositions``
    A ``grams`` format of earlier index generations; their pickled schemas name
    ``content.analysis.ArrayPositions``, which re-exports this class. whoosh's own
    ``Positions.decode_frequency``/``decode_weight`` read the count, so the layout must stay.
"""
from __future__ import annotations

import logging
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from io import BytesIO
from itertools import accumulate, chain, repeat, starmap
from operator import sub
from typing import Any, NamedTuple

from whoosh.codec import default_codec
from whoosh.filedb.structfile import StructFile
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

try:
    from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3LeafMatcher, W3PostingsWriter, W3TermInfo
except ImportError:  # a whoosh without the whoosh3 codec: the fallback reads the postings
    W3LeafMatcher = W3Codec = W3FieldWriter = W3PostingsWriter = W3TermInfo = None

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


# --- bulk writing ------------------------------------------------------------------------------

#: Postings: (docnums ascending, frequencies) of a term.
BulkPostings = tuple[array, array]


def bulk_supported(schema: Any, fieldname: str, codec: Any = None) -> bool:
    """Whether ``BulkSegmentWriter`` can write ``fieldname`` with ``codec``.

    True for an indexed field with whoosh's ``Frequency`` format (term frequencies; no positions,
    vectors or spelling) and the whoosh3 codec, whose block writer ``BulkSegmentWriter`` feeds.

    Args:
        schema: the index's ``Schema``.
        fieldname: the field to write in bulk.
        codec: the codec of the writer (default: whoosh's default codec, what ``ix.writer()`` uses).
    """
    if W3Codec is None or fieldname not in schema:
        return False
    if codec is None:
        codec = default_codec()
    field = schema[fieldname]
    return (type(codec) is W3Codec and type(field.format) is Frequency and field.indexed
            and not field.vector and not field.separate_spelling()
            and all(hasattr(W3PostingsWriter, attr) for attr in ("_write_block", "_new_block", "finish_postings"))
            and all(hasattr(W3FieldWriter, attr) for attr in ("start_field", "finish_field")))


class _WholeBlocks(W3PostingsWriter if W3PostingsWriter is not None else object):  # type: ignore[misc]
    """whoosh3's postings writer handed whole blocks: ids and weights minified at C speed.

    whoosh's ``_mini_ids``/``_mini_weights`` walk a block in Python generators (a third of the
    time of writing a block); these give the same values.
    """

    def _mini_ids(self) -> tuple[int, ...]:
        ids = self._ids
        return tuple(map(sub, ids, chain((0,), ids)))  # delta_encode

    def _mini_weights(self) -> tuple[float, ...] | float | None:
        weights = self._weights
        if weights.count(1.0) == len(weights):
            return None
        if weights.count(weights[0]) == len(weights):
            return weights[0]
        return tuple(weights)


class BulkSegmentWriter(SegmentWriter):
    """A whoosh ``SegmentWriter`` for the first segment of a new index that takes one field's
    postings precomputed, in batches of consecutive documents (see the module docstring).

    Use ``add_batch`` for every document (whoosh's ``add_document`` for the other fields plus the
    batch's postings of the bulk field), then ``commit`` or ``cancel`` as usual. Nothing is merged:
    the index must be empty (it is the first segment of a rebuilt generation).

    Args:
        ix: a new, empty ``whoosh.index.FileIndex`` (see ``bulk_supported``).
        fieldname: the field whose postings ``add_batch`` takes.
        kwargs: as for ``ix.writer()`` (``limitmb``, ``timeout`` …).

    Raises:
        ValueError: the index has segments or the field cannot be written in bulk.
        whoosh.index.LockError: the index's write lock is held.
    """

    def __init__(self, ix: Any, fieldname: str, **kwargs: Any):
        super().__init__(ix, **kwargs)
        if not bulk_supported(self.schema, fieldname, self.codec):
            self.cancel()
            raise ValueError(f"field {fieldname!r} of this index cannot be written in bulk")
        if self.segments:
            self.cancel()
            raise ValueError("BulkSegmentWriter writes the first segment of an empty index only")
        self.merge = False
        self.bulk_field = fieldname
        self._field = self.schema[fieldname]
        # Per term, the arrays of each batch (concatenated once, at the flush).
        self._bulk: dict[str, list[BulkPostings]] = {}
        #: Runs ``encode_blocks`` over a list of argument tuples, returning the results in order
        #: (e.g. in worker processes); None: in this process.
        self.block_encoder: Callable[[list[tuple[Any, ...]]], Iterable[tuple[bytes, list[Any]]]] | None = None
        #: Parts the terms are encoded in (one or more per worker of ``block_encoder``).
        self.encode_chunks = 1
        # The field length of every document as whoosh stores it (one byte, quantised): the
        # block statistics the writer records are of these.
        self._lengths = array("I")

    def add_batch(self, fields: Sequence[Mapping[str, Any]], lengths: Sequence[int],
                  postings: Mapping[str, BulkPostings], first_docnum: int) -> None:
        """Add documents: their other fields, and their postings and lengths in the bulk field.

        Args:
            fields: per document, the keyword arguments of ``add_document`` without the bulk field.
            lengths: per document, its length in the bulk field (the sum of its frequencies).
            postings: term -> (docnums, frequencies) of these documents (docnums ascending,
                between ``first_docnum`` and ``first_docnum + len(fields) - 1``).
            first_docnum: docnum of the first document: the number of documents added before.

        Raises:
            ValueError: ``first_docnum`` is not the next docnum, ``lengths`` does not match
                ``fields``, or a document gives the bulk field a value.
        """
        if first_docnum != self.docnum:
            raise ValueError(f"batch starts at docnum {first_docnum}, the writer is at {self.docnum}")
        if len(lengths) != len(fields):
            raise ValueError("one length per document is needed")
        name, field, pdw = self.bulk_field, self._field, self.perdocwriter
        for values, length in zip(fields, lengths, strict=True):
            if name in values:
                raise ValueError(f"the {name!r} field is added in bulk, not per document")
            self.add_document(**values)
            if length:
                # add_document records a field's length from the postings it indexes itself;
                # this one's are added in bulk, so its length is recorded for the same document
                # (the per-document writer stays on it until the next start_doc).
                pdw.add_field(name, field, None, length)
            self._lengths.append(byte_to_length(length_to_byte(length)) if length else 0)
        bulk = self._bulk
        for term, entry in postings.items():
            found = bulk.get(term)
            if found is None:
                bulk[term] = [entry]
            else:
                found.append(entry)

    def add_reader(self, reader: Any) -> None:
        """Not supported: a bulk segment merges nothing."""
        raise NotImplementedError("BulkSegmentWriter merges no segments")

    def _flush_segment(self) -> None:
        # whoosh's _flush_segment, with the bulk field's terms written in field-name order
        # between the pooled postings of the other fields (the field ids then follow the names,
        # as whoosh's own writer assigns them).
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        lengths = _ScorableLengths(pdr, self.schema) if pdr is not None else None
        items = iter(self.pool.iter_postings())
        name = self.bulk_field
        held: list[Any] = []

        def before() -> Iterator[Any]:
            for item in items:
                if item[0] >= name:
                    held.append(item)
                    return
                yield item

        fieldwriter = self.fieldwriter
        fieldwriter.add_postings(self.schema, lengths, before())
        if held and held[0][0] == name:
            raise RuntimeError(f"postings of the bulk field {name!r} reached the pool")
        self._write_bulk(fieldwriter)
        fieldwriter.add_postings(self.schema, lengths, chain(held, items))
        fieldwriter.close()
        if pdr:
            pdr.close()

    def _write_bulk(self, fieldwriter: Any) -> None:
        """Write every term of the bulk field: blocks encoded by ``encode_blocks`` (in ``block_encoder``),
        the encoded bytes appended to the postings file and the term infos added in term order."""
        if not self._bulk:
            return
        name, field, codec = self.bulk_field, self._field, self.codec
        terms = sorted(self._bulk)  # str order is UTF-8 byte order, the order of the terms table
        count = len(self._lengths)
        for term in terms:
            last_ids = self._bulk[term][-1][0]
            if last_ids and last_ids[-1] >= count:
                raise ValueError(f"postings of {term!r} name documents that were not added")
        # Chunks of about equal postings (the encoding work), in term order.
        total = sum(len(ids) for parts in self._bulk.values() for ids, _ in parts)
        chunk_postings = max(1, total // max(1, self.encode_chunks))
        chunks: list[list[str]] = [[]]
        size = 0
        for term in terms:
            if size >= chunk_postings:
                chunks.append([])
                size = 0
            chunks[-1].append(term)
            size += sum(len(ids) for ids, _ in self._bulk[term])
        settings = BlockSettings(field.format, codec._blocklimit, codec._compression, codec._inlinelimit)
        requests = [(settings, self._lengths, [(term, self._bulk[term]) for term in chunk]) for chunk in chunks]
        fieldwriter.start_field(name, field)
        postfile, terms_table = fieldwriter._postfile, fieldwriter._tindex
        prefix = pack_ushort(fieldwriter._fieldid)
        encoder = self.block_encoder or (lambda requests: starmap(encode_blocks, requests))
        for chunk, (data, infos) in zip(chunks, encoder(requests), strict=True):
            base = postfile.tell()
            postfile.write(data)
            for term, info in zip(chunk, infos, strict=True):
                info._offset += base
                terms_table.add(prefix + term.encode("utf-8"), info.to_bytes())
        fieldwriter.finish_field()


class _ScorableLengths:
    """The per-document reader's field lengths for ``FieldWriter.add_postings``, 0 for an unscorable field.

    whoosh looks for a lengths column file on disk for every posting (a ``stat`` call each);
    an unscorable field never has one (its length is 0, which whoosh returns when the file is
    missing), so it is not looked for.
    """

    def __init__(self, pdr: Any, schema: Any):
        self._pdr = pdr
        self._scorable = {name: bool(schema[name].scorable) for name in schema.names()}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        if not self._scorable.get(fieldname, True):
            return default
        return int(self._pdr.doc_field_length(docnum, fieldname, default))


class BlockSettings(NamedTuple):
    """How a field's postings are encoded: its format and the codec's block settings."""

    format: Any
    blocklimit: int
    compression: int
    inlinelimit: int


def encode_blocks(settings: BlockSettings, lengths: array[int],
                  terms: Sequence[tuple[str, Sequence[BulkPostings]]]) -> tuple[bytes, list[Any]]:
    """Encode the postings of terms into whoosh3 blocks, as whoosh's writer writes them.

    A pure function (``BulkSegmentWriter`` may run it in worker processes): the bytes are those
    whoosh writes to the postings file for these terms one after another, starting at offset 0.

    Args:
        settings: the field's format and the codec's block settings.
        lengths: the field length of every document of the segment, as whoosh stores it.
        terms: (term, its postings in parts of ascending docnums) in term order.

    Returns:
        (the encoded bytes, a ``W3TermInfo`` per term with its extent relative to those bytes).

    Raises:
        ValueError: a term's docnums and frequencies differ in number.
    """
    postfile = StructFile(BytesIO())
    postwriter = _WholeBlocks(postfile, blocklimit=settings.blocklimit, compression=settings.compression,
                              inlinelimit=settings.inlinelimit)
    boost = settings.format.field_boost
    limit = settings.blocklimit
    infos = []
    for term, parts in terms:
        if len(parts) == 1:
            ids, freqs = parts[0]
        else:
            ids, freqs = array("I"), array("I")
            for part_ids, part_freqs in parts:
                ids.extend(part_ids)
                freqs.extend(part_freqs)
        if len(ids) != len(freqs):
            raise ValueError(f"postings of {term!r}: {len(ids)} docnums, {len(freqs)} frequencies")
        weights = array("f", freqs) if boost == 1.0 else array("f", (f * boost for f in freqs))
        # Frequency's value of a posting is pack_uint(freq): a big-endian unsigned int.
        values = array("I", freqs)
        if sys.byteorder == "little":
            values.byteswap()
        value_bytes = values.tobytes()
        size = values.itemsize
        postwriter.start_postings(settings.format, W3TermInfo())
        total = len(ids)
        for start in range(0, total, limit):
            end = min(start + limit, total)
            block = ids[start:end]
            block_lengths = list(map(lengths.__getitem__, block))
            postwriter._ids = block
            postwriter._weights = weights[start:end]
            postwriter._values = [value_bytes[start * size:end * size]]
            postwriter._minlength = min(block_lengths) or None
            postwriter._maxlength = max(block_lengths)
            postwriter._maxweight = max(postwriter._weights)
            postwriter._write_block(last=end == total)
        infos.append(postwriter.finish_postings())
    return postfile.file.getvalue(), infos
