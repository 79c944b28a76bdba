"""The PostgreSQL part of ``bench_search.py``: the same corpus and queries on ``content.pgsearch`` in a throwaway
database, with recall against the same exact-substring truth and the same latency goals.

Used by ``bench_search.py --database-url postgresql://user@host:port/db``.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from pg_scratch import scratch_search
from sqlalchemy import text

from content import IndexDoc

#: Runs of each query whose latency is measured (after one unmeasured run).
RUNS = 7


def measure(url: str, docs: Sequence[IndexDoc], chars: int, queries: Sequence[tuple[str, Callable[[str], bool]]],
            texts: dict[str, str], goals: dict[str, float],
            percentile: Callable[[list[float], float], float]) -> dict[str, Any]:
    """Build, then run every query; print a table like the whoosh one and return the summary figures
    (``percentile``: bench_search's, so both backends' figures are computed alike)."""
    with scratch_search(url) as pg:
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        pg.rebuild(docs)
        pg.bind.commit()
        build_s = time.perf_counter() - t0
        pg.bind.execute(text("ANALYZE search_document"))
        pg.bind.commit()
        size = pg.bind.execute(text("SELECT pg_total_relation_size('search_document')")).scalar_one()
        print(f"postgresql index: {build_s:.1f} s, {chars / build_s:,.0f} chars/s, {len(docs) / build_s:,.1f} docs/s, "
              f"{size / 1048576:.1f} MB (table, TOAST and indexes); load {load_before:.1f}", flush=True)
        header = f"{'query':<26} {'truth':>6} {'pg':>6} {'recall':>6} {'extra':>6} {'p50ms':>7} {'p95ms':>7}"
        print(header)
        print("-" * len(header))
        all_ms: list[float] = []
        failures = []
        worst_recall = 1.0
        for query, truth_fn in queries:
            truth = {doc_id for doc_id, t in texts.items() if truth_fn(t)}
            found = pg.match_ids(query)
            recall = len(found & truth) / len(truth) if truth else 1.0
            worst_recall = min(worst_recall, recall)
            timings = []
            page = None
            for run in range(RUNS + 1):
                t0 = time.perf_counter()
                page = pg.search(query, pagelen=10)
                if run:
                    timings.append((time.perf_counter() - t0) * 1000)
            assert page is not None and page.total == len(found), (query, page.total, len(found))
            pg.bind.rollback()  # end the read transaction: each search is its own, as on a web node
            all_ms += timings
            p50, p95 = percentile(timings, 50), percentile(timings, 95)
            print(f"{query:<26} {len(truth):>6} {len(found):>6} {recall:>6.3f} {len(found - truth):>6} "
                  f"{p50:>7.1f} {p95:>7.1f}", flush=True)
            if recall < goals["recall"] or p50 > goals["p50"] or p95 > goals["p95"]:
                failures.append(query)
        summary = {"build_chars_per_s": chars / build_s, "p50_ms": percentile(all_ms, 50),
                   "p95_ms": percentile(all_ms, 95), "recall": worst_recall, "failures": failures}
        print(f"postgresql: all queries p50 {summary['p50_ms']:.1f} ms, p95 {summary['p95_ms']:.1f} ms; "
              f"lowest recall {worst_recall:.3f}; build {summary['build_chars_per_s']:,.0f} chars/s", flush=True)
        return summary
