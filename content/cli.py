"""Command line: ``python -m content parse FILE`` and ``python -m content search INDEXDIR QUERY``.

The functions ``parse_file`` and ``search_index`` are what the elearn CLI wraps.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .ingest import parse_reading
from .query import QueryError
from .reading import Reading, ReadingError
from .searcher import SearchPage
from .store import SearchIndex


def parse_file(path: str | Path) -> Reading:
    """Parse a reading file from disk.

    Args:
        path: the file; its extension selects the format.

    Raises:
        ReadingError: the file is unreadable or not a valid reading (message for the user).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadingError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    return parse_reading(data, path.name)


def search_index(index_dir: str | Path, query: str, **options: Any) -> SearchPage:
    """Search an index directory; ``options`` are those of ``Searcher.search``.

    Args:
        index_dir: the ``SearchIndex`` directory.
        query: the query (see ``content.query``).
        options: ``kinds``, ``page``, ``pagelen`` … as for ``Searcher.search``.

    Raises:
        QueryError: invalid query.
        whoosh.index.EmptyIndexError: no index at ``index_dir``.
    """
    return SearchIndex(index_dir).search(query, **options)


def _print_page(result: SearchPage, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    print(f"{result.total} result(s), page {result.page} of {result.pagecount}")
    for hit in result.hits:
        target = f"reading {hit.reading_id} #{hit.anchor}" if hit.kind == "reading" else (
            f"lesson {hit.lesson_id} @{hit.anchor}s" if hit.kind == "subtitle" else hit.doc_id)
        print(f"- [{hit.kind}] {hit.title} ({target})\n  {hit.snippet_html}")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status (0 ok, 1 user error, 2 usage error).

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).

    Raises:
        SystemExit: invalid usage (status 2), or ``--help``.
    """
    parser = argparse.ArgumentParser(prog="python -m content", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    parse_cmd = commands.add_parser("parse", help="print the JSON outline of a reading file")
    parse_cmd.add_argument("file")
    parse_cmd.add_argument("--text", action="store_true", help="include the paragraphs' text")
    search_cmd = commands.add_parser("search", help="search an index directory")
    search_cmd.add_argument("index_dir")
    search_cmd.add_argument("query")
    search_cmd.add_argument("--kind", action="append", dest="kinds")
    search_cmd.add_argument("--page", type=int, default=1)
    search_cmd.add_argument("--pagelen", type=int, default=10)
    search_cmd.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "parse":
            reading = parse_file(args.file)
            print(json.dumps(reading.to_dict(with_text=args.text), ensure_ascii=False, indent=2))
        else:
            if not SearchIndex(args.index_dir).exists():
                print(f"error: no search index at {args.index_dir}", file=sys.stderr)
                return 1
            result = search_index(args.index_dir, args.query, kinds=args.kinds, page=args.page,
                                  pagelen=args.pagelen)
            _print_page(result, args.json)
    except (ReadingError, QueryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
