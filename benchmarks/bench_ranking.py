"""Ranking benchmark: nDCG@10 of a hand-graded query set over the sample reading.

Documents: one per paragraph of the sample reading (doc id = paragraph id, title = its section
title, or the reading's title for the untitled first section) plus the documents of
``data/ranking_queries.json``, which also holds ~30 queries (words, compounds, quoted phrases with
punctuation, Traditional input, title-targeted queries) with relevance grades 0–3 given by reading
the documents (documents not graded count as 0).

    python benchmarks/bench_ranking.py                       # this checkout's content package
    python benchmarks/bench_ranking.py --content-from DIR    # another copy (DIR/content), e.g. an older engine

A backend is a search function ``query -> ranked doc ids``; ``run(search_fn)`` scores any of them
(whoosh's is built here; a PostgreSQL one can be plugged in next to it in ``BACKENDS``).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = Path("/work/shared/samples/readings/national-member-education-plan-2024-2028.txt")
QUERIES = Path(__file__).resolve().parent / "data" / "ranking_queries.json"
#: Results a query's nDCG looks at.
CUTOFF = 10

#: A search function: the query as typed -> doc ids, best first (at least ``CUTOFF`` if there are).
SearchFn = Callable[[str], list[str]]


def load_queries(path: Path = QUERIES) -> dict[str, Any]:
    """The graded query set (``documents`` and ``queries`` with ``grades``)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def benchmark_documents(data: dict[str, Any]) -> list[Any]:
    """IndexDocs: a paragraph each from the sample reading, then the query set's own documents."""
    from content import IndexDoc, parse_reading

    reading = parse_reading(SAMPLE.read_bytes(), SAMPLE.name)
    docs = [IndexDoc(doc_id=paragraph.id, kind="reading", title=section.title or reading.title,
                     body=paragraph.text, reading_id=1, anchor=paragraph.id)
            for section in reading.sections for paragraph in section.paragraphs]
    docs.extend(IndexDoc(**values) for values in data["documents"])
    return docs


def dcg(grades: list[int]) -> float:
    """Discounted cumulative gain of grades in rank order: sum of (2^g - 1) / log2(rank + 1)."""
    return sum((2 ** g - 1) / math.log2(rank + 2) for rank, g in enumerate(grades))


def ndcg(ranked: list[str], grades: dict[str, int], cutoff: int = CUTOFF) -> float:
    """nDCG@cutoff of a ranking against graded relevance (1.0 when nothing is relevant and nothing is found)."""
    ideal = dcg(sorted(grades.values(), reverse=True)[:cutoff])
    if ideal == 0:
        return 1.0 if not ranked else 0.0
    return dcg([grades.get(doc_id, 0) for doc_id in ranked[:cutoff]]) / ideal


def run(search_fn: SearchFn, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """nDCG@10 of every graded query and their mean for one backend's search function.

    Returns:
        {"queries": [{"query", "kind", "ndcg", "top"}...], "mean": float}.
    """
    data = data or load_queries()
    rows = []
    for item in data["queries"]:
        ranked = search_fn(item["query"])[:CUTOFF]
        rows.append({"query": item["query"], "kind": item["kind"], "ndcg": ndcg(ranked, item["grades"]),
                     "top": ranked[:5]})
    return {"queries": rows, "mean": sum(r["ndcg"] for r in rows) / len(rows)}


@contextmanager
def whoosh_backend(data: dict[str, Any]) -> Iterator[SearchFn]:
    """A ``content.SearchIndex`` in a temporary directory holding the benchmark's documents."""
    from content import SearchIndex

    with tempfile.TemporaryDirectory(prefix="bench-ranking-") as tmp:
        index = SearchIndex(Path(tmp) / "index").create_or_open()
        index.rebuild(benchmark_documents(data))
        with index.searcher() as searcher:
            yield lambda query: [hit.doc_id for hit in searcher.search(query, pagelen=CUTOFF).hits]


@contextmanager
def postgresql_backend(data: dict[str, Any], url: str) -> Iterator[SearchFn]:
    """``content.pgsearch`` on a throwaway database of the PostgreSQL server at ``url``."""
    from pg_scratch import scratch_search

    with scratch_search(url) as pg:
        pg.rebuild(benchmark_documents(data))
        pg.bind.commit()
        yield lambda query: [hit.doc_id for hit in pg.search(query, pagelen=CUTOFF).hits]


#: Backends measured: name -> context manager yielding its search function (PostgreSQL with --database-url).
BACKENDS: dict[str, Callable[[dict[str, Any]], Any]] = {"whoosh": whoosh_backend}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--content-from", type=Path, default=ROOT,
                        help="directory whose 'content' package to measure (default: this checkout)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--database-url", help="also measure the PostgreSQL backend on this server "
                                               "(postgresql://user@host:port/db; a scratch database is used)")
    parser.add_argument("--min-mean", type=float, default=None,
                        help="exit 1 if a backend's mean nDCG@10 is below this (CI)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.content_from.resolve()))
    sys.path.insert(1, str(Path(__file__).resolve().parent))
    import content

    data = load_queries()
    results = {}
    backends = dict(BACKENDS)
    if args.database_url:
        backends["postgresql"] = lambda d: postgresql_backend(d, args.database_url)
    for name, backend in backends.items():
        with backend(data) as search_fn:
            results[name] = run(search_fn, data)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
        return 0
    print(f"content package: {Path(content.__file__).parent}")
    for name, result in results.items():
        print(f"\n{name}: nDCG@{CUTOFF} per query")
        for row in result["queries"]:
            print(f"  {row['ndcg']:.3f}  {row['query']:<16} {row['kind']:<28} {' '.join(row['top'])}")
        print(f"{name}: mean nDCG@{CUTOFF} = {result['mean']:.3f} over {len(result['queries'])} queries")
    if args.min_mean is not None and any(r["mean"] < args.min_mean for r in results.values()):
        print(f"mean nDCG@{CUTOFF} below {args.min_mean}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
