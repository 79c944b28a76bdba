"""The search index on disk: generation directories, the single writer, and swapping in a rebuilt index.

Layout: ``path/CURRENT`` names the current generation directory ``path/gen-…``, which holds an
ordinary whoosh index (fields: ``content.documents``). Incremental writes go into the current
generation under whoosh's single write lock; ``rebuild`` builds a fresh generation next to it
and swaps ``CURRENT`` atomically, so readers never see a half-built index. Everything a search
reads (postings, the folded-text column) is inside the generation directory and written by the
same single writer, so rebuild/swap stays atomic.
"""
from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import whoosh.index
from whoosh.index import EmptyIndexError, LockError
from whoosh.index import IndexError as WhooshIndexError

from .documents import IndexDoc, make_schema

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

_CURRENT = "CURRENT"
_GEN_PREFIX = "gen-"
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

    def create_or_open(self) -> SearchIndex:
        """Create the index (empty) if it does not exist yet; return ``self``.

        Safe to call from several processes at once: exactly one creation wins.

        Raises:
            OSError: ``path`` cannot be created or written.
        """
        if self.exists():
            return self
        self.path.mkdir(parents=True, exist_ok=True)
        gen = self._new_generation()
        whoosh.index.create_in(str(gen), make_schema())
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
