"""The search index on disk: generation directories, the single writer, and swapping in a rebuilt index.

Layout: ``path/CURRENT`` names the current generation directory ``path/gen-…``, which holds an
ordinary whoosh index (fields: ``content.documents``). Incremental writes go into the current
generation under whoosh's single write lock; ``rebuild`` builds a fresh generation next to it
and swaps ``CURRENT`` atomically, so readers never see a half-built index. Everything a search
reads (postings, the folded-text column) is inside the generation directory and written by the
same single writer, so rebuild/swap stays atomic.

A rebuild analyses the documents in worker processes (``content.documents.prepare_grams``,
batches of about ``BUILD_BATCH_CHARS`` characters) while the writing process adds their stored
fields; the bigram postings are then written in whole blocks (``whoosh_compat.BulkSegmentWriter``)
into one segment. Each generation holds ``FORMAT.json``, the ``format_stamp()`` of the code that
wrote it: ``format_is_current`` tells when an upgrade needs a rebuild.
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, suppress
from functools import partial
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import whoosh.index
from whoosh.index import EmptyIndexError, LockError
from whoosh.index import IndexError as WhooshIndexError

from . import whoosh_compat
from .documents import GRAMS_FIELD, TEXT_FIELD, IndexDoc, PreparedGrams, format_stamp, make_schema, prepare_grams

if TYPE_CHECKING:
    from .searcher import Searcher, SearchPage

#: Seconds a writer waits for the index's write lock before giving up.
WRITER_TIMEOUT = 10.0
#: Attempts to open a generation whose files vanish underneath (a concurrent swap or merge).
OPEN_ATTEMPTS = 5
#: Memory a writer may use before flushing a segment, in MB.
WRITER_LIMIT_MB = 256
#: What opening or reading a generation raises when its files vanish underneath (a rebuild
#: removed the generation, or a merge removed a segment): try again on the current one.
VANISHED_ERRORS = (FileNotFoundError, EmptyIndexError, WhooshIndexError, OSError, EOFError)

#: Characters of the documents a rebuild hands to a worker process at a time.
BUILD_BATCH_CHARS = 250_000
#: Parts (of about equal postings) per worker process in which a rebuild encodes the bigram postings.
BUILD_ENCODE_CHUNKS_PER_PROC = 4

_CURRENT = "CURRENT"
_GEN_PREFIX = "gen-"
_FORMAT_FILE = "FORMAT.json"
_DELETE_FIELDS = ("doc_id", "kind", "reading_id", "course_id", "lesson_id")


class IndexBusyError(RuntimeError):
    """Another writer held the index's write lock for longer than the timeout."""


def _check_delete_field(field: str) -> None:
    if field not in _DELETE_FIELDS:
        raise ValueError(f"can only delete by {', '.join(_DELETE_FIELDS)}, not {field!r}")


class SearchIndex:
    """A generational whoosh index at ``path`` (a directory this class owns).

    Args:
        path: directory of the index (created by ``create_or_open``).
        writer_timeout: seconds to wait for the write lock before ``IndexBusyError``.
    """

    def __init__(self, path: str | os.PathLike[str], *, writer_timeout: float = WRITER_TIMEOUT):
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
        except FileNotFoundError as exc:
            raise EmptyIndexError(f"no search index at {self.path}; call create_or_open() first") from exc
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

    def _create_generation(self) -> tuple[Path, Any]:
        """A new, empty generation directory with its format stamp: (directory, whoosh index)."""
        gen = self._new_generation()
        ix = whoosh.index.create_in(str(gen), make_schema())
        (gen / _FORMAT_FILE).write_text(json.dumps(format_stamp()) + "\n", encoding="ascii")
        return gen, ix

    def format_is_current(self) -> bool:
        """Whether the current generation was written with this code's index format and analysis.

        False for a generation written by older code (no format stamp), by code with another
        ``FORMAT_VERSION`` or another text analysis (say a changed ``fold``), or when the index
        does not exist: then ``rebuild`` is needed for searches to find what they should.
        """
        try:
            stamp = json.loads((self.current_generation() / _FORMAT_FILE).read_text(encoding="ascii"))
        except (EmptyIndexError, OSError, ValueError):
            return False
        return bool(stamp == format_stamp())

    def create_or_open(self) -> SearchIndex:
        """Create the index (empty) if it does not exist yet; return ``self``.

        Safe to call from several processes at once: exactly one creation wins.

        Raises:
            OSError: ``path`` cannot be created or written.
        """
        if self.exists():
            return self
        self.path.mkdir(parents=True, exist_ok=True)
        gen, _ = self._create_generation()
        if not self._point_current_to(gen, only_if_missing=True):
            shutil.rmtree(gen, ignore_errors=True)
        return self

    def open_generation(self) -> tuple[Path, Any]:
        """Open the current generation, retrying when a concurrent swap or merge removes its files.

        Returns:
            (generation directory, open ``whoosh.index.Index``).

        Raises:
            EmptyIndexError: the index has not been created.
            RuntimeError: the files kept vanishing for ``OPEN_ATTEMPTS`` attempts.
        """
        last_error: Exception | None = None
        for attempt in range(OPEN_ATTEMPTS):
            gen = self.current_generation()
            try:
                return gen, whoosh.index.open_dir(str(gen))
            except VANISHED_ERRORS as exc:
                # A rebuild swapped generations (or a merge removed a segment) while we opened.
                last_error = exc
                time.sleep(0.01 * (attempt + 1))
        raise RuntimeError(f"could not open the search index at {self.path}: {last_error}")

    # writing

    def _writer(self) -> tuple[Path, Any]:
        """A whoosh writer on the current generation, holding its write lock.

        Raises:
            IndexBusyError: the lock was not obtained within ``writer_timeout``.
        """
        deadline = time.monotonic() + self.writer_timeout
        while True:
            gen, ix = self.open_generation()
            remaining = max(0.0, deadline - time.monotonic())
            try:
                writer = ix.writer(timeout=remaining, delay=0.05, limitmb=WRITER_LIMIT_MB)
            except LockError as exc:
                raise IndexBusyError(
                    f"the search index is busy: another writer held it for more than {self.writer_timeout:g} s"
                ) from exc
            except VANISHED_ERRORS as exc:
                if time.monotonic() > deadline:
                    raise IndexBusyError("the search index kept changing generation; try again") from exc
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

    def replace_by(self, field: str | None, value: object, docs: Iterable[IndexDoc | Mapping[str, Any]]) -> int:
        """Delete documents whose ``field`` equals ``value`` and add ``docs``, in one transaction.

        Use it to re-index a reading whose chunk count changed:
        ``replace_by("reading_id", 7, reading_documents(reading, 7))``.

        Args:
            field: an ID field (doc_id, kind, reading_id, course_id, lesson_id) or None to delete nothing.
            value: the value to delete (compared as a string).
            docs: documents to add.

        Returns:
            The number of documents written.

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

    def delete_by(self, field: str, value: object) -> int:
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
            deleted = int(writer.delete_by_term(field, str(value)))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return deleted

    def rebuild(self, docs: Iterable[IndexDoc | Mapping[str, Any]], *, optimize: bool = True,
                procs: int | None = None) -> int:
        """Build a new generation from ``docs`` and swap it in atomically.

        Writers wait (up to their timeout) while the rebuild runs, so no update is lost into the
        old generation. Searchers that are open keep reading the old generation until they refresh.
        On any error the old generation stays current.

        The documents are analysed in ``procs`` worker processes (new interpreters, never forked:
        the caller may be a threaded job worker) unless they fit in one batch; ``docs`` is read
        ahead by one batch per worker only.

        Args:
            docs: every document the index should contain (an iterable; consumed once).
            optimize: kept for callers: a rebuilt generation is always one segment.
            procs: worker processes (default ``os.cpu_count()``; 1: analyse in this process).

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
            new_gen, ix = self._create_generation()
            if whoosh_compat.bulk_supported(ix.schema, GRAMS_FIELD):
                writer = whoosh_compat.BulkSegmentWriter(ix, GRAMS_FIELD, limitmb=WRITER_LIMIT_MB)
            else:
                writer = ix.writer(limitmb=WRITER_LIMIT_MB)
            with ExitStack() as stack:  # worker processes, if any
                try:
                    count = _write_all(writer, docs, procs, stack)
                    writer.commit(optimize=optimize)
                except BaseException:
                    if not writer.is_closed:
                        writer.cancel()
                    raise
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
        """Merge all segments into one (faster searches after many small updates).

        Raises:
            IndexBusyError: the write lock was not obtained in time.
        """
        _, writer = self._writer()
        writer.commit(optimize=True)

    # reading

    def doc_count(self) -> int:
        """Number of documents in the current generation.

        Raises:
            EmptyIndexError: the index has not been created.
        """
        with self.searcher() as searcher:
            return searcher.doc_count()

    def searcher(self) -> Searcher:
        """Open a ``Searcher`` (close it, or use it as a context manager).

        Raises:
            EmptyIndexError: the index has not been created.
        """
        # Imported here: content.searcher imports this module (a Searcher follows a SearchIndex).
        from .searcher import Searcher

        return Searcher(self)

    def search(self, query_string: str, **options: Any) -> SearchPage:
        """Search with a short-lived searcher.

        Args:
            query_string: the query.
            options: ``kinds``, ``series``, ``sectors``, ``allowed``, ``page``, ``pagelen`` as for
                ``Searcher.search``.

        Raises:
            QueryError: invalid query or paging arguments (message for the user).
            EmptyIndexError: the index has not been created.
        """
        with self.searcher() as searcher:
            return searcher.search(query_string, **options)

    def size_bytes(self) -> int:
        """Bytes used by the current generation on disk.

        Raises:
            EmptyIndexError: the index has not been created.
        """
        gen = self.current_generation()
        return sum(f.stat().st_size for f in gen.iterdir() if f.is_file())


# --- rebuild ----------------------------------------------------------------------------------

def _batches(docs: Iterable[IndexDoc | Mapping[str, Any]]) -> Iterator[list[IndexDoc]]:
    """Valid documents in batches of about ``BUILD_BATCH_CHARS`` characters.

    Raises:
        ValueError: a document is invalid.
    """
    batch: list[IndexDoc] = []
    size = 0
    for value in docs:
        doc = IndexDoc.coerce(value)
        doc.validate()
        batch.append(doc)
        size += len(doc.title) + len(doc.body) + 1
        if size >= BUILD_BATCH_CHARS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _add_prepared(writer: Any, batch: list[IndexDoc], prepared: PreparedGrams) -> None:
    fields = []
    for doc, text in zip(batch, prepared.texts, strict=True):
        values = doc.stored_fields()
        values[TEXT_FIELD] = text
        fields.append(values)
    writer.add_batch(fields, prepared.lengths, prepared.postings, prepared.first_docnum)


class _BuildWorkers:
    """Worker processes running a rebuild's tasks (``documents.serve_build_tasks``), one request each at a time.

    A request goes to a worker whose previous reply has been read, so neither side can block
    writing to a full pipe while the other does the same.
    """

    def __init__(self, procs: int):
        root = str(Path(__file__).resolve().parent.parent)  # the directory ``content`` is imported from
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        command = [sys.executable, "-c", "from content.documents import serve_build_tasks; serve_build_tasks()"]
        self.procs: list[subprocess.Popen[bytes]] = []
        try:
            for _ in range(procs):
                self.procs.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env))
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> _BuildWorkers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, worker: int, task: str, args: tuple[Any, ...]) -> None:
        stdin = self.procs[worker].stdin
        assert stdin is not None
        data = pickle.dumps((task, args), protocol=pickle.HIGHEST_PROTOCOL)
        stdin.write(len(data).to_bytes(8, "big"))
        stdin.write(data)
        stdin.flush()

    def receive(self, worker: int) -> Any:
        stdout = self.procs[worker].stdout
        assert stdout is not None
        header = stdout.read(8)
        if len(header) < 8:
            raise RuntimeError(f"index build worker exited (status {self.procs[worker].poll()})")
        status, value = pickle.loads(stdout.read(int.from_bytes(header, "big")))
        if status != "ok":
            raise RuntimeError(f"index build worker failed:\n{value}")
        return value

    def run_in_order(self, task: str, requests: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        """Results of ``task`` for each request, in order; request k runs on worker k % procs.

        ``requests`` is read one request ahead per worker only.
        """
        pending: deque[int] = deque()
        for k, args in enumerate(requests):
            if len(pending) == len(self.procs):
                yield self.receive(pending.popleft())  # the worker request k goes to is then free
            self.send(k % len(self.procs), task, args)
            pending.append(k % len(self.procs))
        while pending:
            yield self.receive(pending.popleft())

    def close(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None and not proc.stdin.closed:
                with suppress(BrokenPipeError):  # a worker that died already
                    proc.stdin.close()  # the worker's input ends: it exits
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def _write_all(writer: Any, docs: Iterable[IndexDoc | Mapping[str, Any]], procs: int | None,
               stack: ExitStack) -> int:
    """Add every document to a new segment's writer; the number of documents added.

    With a ``BulkSegmentWriter`` the bigrams are prepared by ``prepare_grams``: in this process
    for one batch or ``procs=1``, otherwise in ``procs`` worker processes while this one adds
    the documents of earlier batches; the workers then also encode the postings blocks at the
    commit (they stop when ``stack`` closes). Other writers index every field through whoosh.
    """
    batches = _batches(docs)
    if not isinstance(writer, whoosh_compat.BulkSegmentWriter):
        count = 0
        for batch in batches:
            for doc in batch:
                writer.add_document(**doc.fields())
            count += len(batch)
        return count
    procs = (os.cpu_count() or 1) if procs is None else max(1, procs)
    head = list(islice(batches, 2))
    if procs == 1 or len(head) < 2:  # starting processes would cost more than it saves
        docnum = 0
        for batch in chain(head, batches):
            _add_prepared(writer, batch, prepare_grams([doc.text for doc in batch], docnum))
            docnum += len(batch)
        return docnum
    workers = stack.enter_context(_BuildWorkers(procs))
    sent: deque[list[IndexDoc]] = deque()

    def requests() -> Iterator[tuple[list[str], int]]:
        docnum = 0
        for batch in chain(head, batches):
            sent.append(batch)
            yield [doc.text for doc in batch], docnum
            docnum += len(batch)

    for prepared in workers.run_in_order("prepare_grams", requests()):
        _add_prepared(writer, sent.popleft(), prepared)
    writer.block_encoder = partial(workers.run_in_order, "encode_blocks")
    writer.encode_chunks = BUILD_ENCODE_CHUNKS_PER_PROC * procs
    return int(writer.docnum)
