"""Search benchmark: content's whoosh index against SQLite FTS5 (trigram) on a generated corpus.

The corpus (default 20 million characters) is recombined from the sample reading: its
sentences and clauses are shuffled into new paragraphs and mixed with generated sentences
built from the plan's vocabulary, plus a few rare "out of dictionary" words at known rates.
For every query the exact answer is computed by substring tests over the folded text, so
recall is measured, not assumed.

    python benchmarks/bench_search.py                 # full run
    python benchmarks/bench_search.py --chars 1000000 # quick run
    python benchmarks/bench_search.py --procs 1       # build in one process

The build rate is machine- and load-dependent: the load average is printed with it.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from content import (
    IndexDoc,
    SearchIndex,
    engine,
    fold,
    parse_reading,
)
from content.searcher import match_docnums

SAMPLE = Path("/work/shared/samples/readings/national-member-education-plan-2024-2028.txt")
DOC_CHARS = 1500
SEED = 20240227
LATENCY_RUNS = 7
GOAL_RECALL = 0.95
GOAL_P50_MS = 50
GOAL_P95_MS = 200

SUBJECTS = ["各级党组织", "基层党组织书记", "流动党员", "党员干部", "农村党员", "机关党支部", "国有企业党委",
            "新就业群体党员", "社区党组织", "高校学生党员", "科研机构党员", "离退休干部党员", "青年党员"]
VERBS = ["认真学习", "深入贯彻", "系统掌握", "积极参加", "扎实开展", "统筹推进", "持续深化", "全面落实",
         "组织开展", "认真落实", "不断完善", "积极探索"]
OBJECTS = ["三会一课制度", "主题党日活动", "党章党规党纪教育", "形势政策教育", "脱产培训", "视频集中培训",
           "党史学习教育", "知识技能教育", "新质生产力相关知识", "基层治理经验", "线上学习课程", "红色资源",
           "入党誓词重温活动", "年度培训计划备案", "师资队伍建设", "党员教育信息化平台"]
TAILS = ["，切实提高学习质量。", "，确保取得实效。", "，推动工作落地见效。", "，不断增强党性修养。",
         "，做到学思用贯通。", "，努力在本职岗位上创先争优。", "，每年累计不少于四十学时。"]
# Rare words absent from jieba's dictionary, injected at known rates so OOV queries have answers.
RARE_WORDS = ["泷澜湾", "翊岚", "QX7", "鲃鱼坝"]


def sentences_of(text: str) -> list[str]:
    return [s for s in re.findall(r"[^。！？]*[。！？]", text) if len(s.strip()) > 4]


def build_corpus(target_chars: int) -> list[IndexDoc]:
    rng = random.Random(SEED)
    reading = parse_reading(SAMPLE.read_bytes(), SAMPLE.name)
    sample_sentences = [s.strip() for p in reading.paragraphs for s in sentences_of(p.text)]
    clauses = [c for s in sample_sentences for c in re.split(r"[，；]", s.rstrip("。！？")) if len(c) >= 4]
    headings = [s.title for s in reading.sections if s.title]
    kinds = ["reading", "reading", "reading", "lesson", "subtitle", "course"]
    sectors = ["农村", "城市社区", "机关", "事业单位", "企业", "新兴领域"]
    docs: list[IndexDoc] = []
    total = 0
    n = 0
    while total < target_chars:
        n += 1
        parts: list[str] = []
        size = 0
        while size < DOC_CHARS:
            roll = rng.random()
            if roll < 0.45:
                sentence = rng.choice(sample_sentences)
            elif roll < 0.75:
                picked = rng.sample(clauses, rng.randint(2, 4))
                sentence = "，".join(picked) + "。"
            else:
                sentence = rng.choice(SUBJECTS) + rng.choice(VERBS) + rng.choice(OBJECTS) + rng.choice(TAILS)
            if rng.random() < 0.002:
                sentence = sentence[:-1] + "，地点在" + rng.choice(RARE_WORDS) + "。"
            parts.append(sentence)
            size += len(sentence)
        body = "".join(parts)
        kind = rng.choice(kinds)
        title = f"{rng.choice(headings)}（第{n}篇）"
        docs.append(IndexDoc(
            doc_id=f"bench:{n}", kind=kind, title=title, body=body,
            reading_id=str(n) if kind == "reading" else None,
            lesson_id=str(n) if kind in ("lesson", "subtitle") else None,
            anchor="p-1" if kind == "reading" else 0,
            sectors=[rng.choice(sectors)], series=[f"series-{n % 17}"],
            audience=[f"course:{n % 50}", "public"] if n % 3 else [f"course:{n % 50}"],
        ))
        total += len(title) + 1 + len(body)
    return docs


def _has(*words):
    return lambda t: all(w in t for w in words)


# (query, truth over folded title+body, FTS5 expression or None for LIKE fallback, LIKE patterns)
QUERIES = [
    ("党员", _has("党员")),
    ("新质生产力", _has("新质生产力")),
    ("基层党组织", _has("基层党组织")),
    ("主题党日", _has("主题党日")),
    ("教育培训", _has("教育培训")),
    ('"全国干部教育培训规划"', _has("全国干部教育培训规划")),
    ('"学纪知纪明纪守纪"', _has("学纪知纪明纪守纪")),
    ('"党的创新理论武装"', _has("党的创新理论武装")),
    ('"年度培训计划备案"', _has("年度培训计划备案")),
    ('"每年累计不少于四十学时"', _has("每年累计不少于四十学时")),
    ("廉", _has("廉")),
    ("鲜", _has("鲜")),
    ("魂", _has("魂")),
    ("泷澜湾", _has("泷澜湾")),
    ("翊岚", _has("翊岚")),
    ("qx7", _has("qx7")),
    ("鲃鱼坝", _has("鲃鱼坝")),
    ("农村 AND 脱产培训", _has("农村", "脱产培训")),
    ("流动党员 视频集中培训", _has("流动党员", "视频集中培训")),
    ("三会一课 -主题党日", lambda t: "三会一课" in t and "主题党日" not in t),
    ('"脱产培训" NOT 书记', lambda t: "脱产培训" in t and "书记" not in t),
    ("泷澜湾 OR 鲃鱼坝", lambda t: "泷澜湾" in t or "鲃鱼坝" in t),
]


def fts_where(query: str) -> tuple[str, list[str]]:
    """An FTS5 (trigram) WHERE clause for a benchmark query; terms under 3 characters use LIKE."""
    def term(word: str) -> tuple[str, list[str]]:
        if len(word) >= 3:
            return "plain.id IN (SELECT rowid FROM docs WHERE docs MATCH ?)", ['"' + word.replace('"', '""') + '"']
        # The trigram index cannot answer 1-2 character terms; scan the text like an app would have to.
        return "plain.text LIKE ?", [f"%{word}%"]

    q = query.replace('"', "")
    if " OR " in q:
        parts = [term(w) for w in q.split(" OR ")]
        return "(" + " OR ".join(p[0] for p in parts) + ")", [a for p in parts for a in p[1]]
    clauses, args = [], []
    tokens = q.replace(" AND ", " ").split()
    negate = False
    for token in tokens:
        if token == "NOT":
            negate = True
            continue
        if token.startswith("-"):
            negate, token = True, token[1:]
        sql, a = term(token)
        clauses.append(f"NOT ({sql})" if negate else sql)
        args += a
        negate = False
    return " AND ".join(clauses), args


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=20_000_000, help="corpus size in characters")
    parser.add_argument("--keep", help="keep the index in this directory")
    parser.add_argument("--procs", type=int, default=None,
                        help="worker processes of the index build (default: one per CPU)")
    parser.add_argument("--database-url", help="also measure the PostgreSQL backend (content.pgsearch) on this "
                                               "server: postgresql://user@host:port/db (a scratch database is used)")
    parser.add_argument("--check-recall", action="store_true",
                        help="exit 1 unless every query finds all of its exact-substring truth (CI)")
    args = parser.parse_args()
    print(f"sqlite {sqlite3.sqlite_version}; corpus target {args.chars:,} characters", flush=True)
    if sqlite3.sqlite_version_info < (3, 34):
        print("SQLite >= 3.34 is needed for the FTS5 trigram tokenizer", file=sys.stderr)
        return 1

    t0 = time.perf_counter()
    docs = build_corpus(args.chars)
    chars = sum(len(d.title) + 1 + len(d.body) for d in docs)
    print(f"corpus: {len(docs):,} documents, {chars:,} characters, built in {time.perf_counter() - t0:.1f} s",
          flush=True)

    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_search_"))
    try:
        index = SearchIndex(workdir / "index")
        load_before = os.getloadavg()[0]
        cpu_before = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        t0 = time.perf_counter()
        index.rebuild(docs, procs=args.procs)
        elapsed = time.perf_counter() - t0
        # CPU seconds of this process and of the build's worker processes (waited for by then):
        # what the build costs whatever else the machine runs.
        cpu_self, cpu_workers = ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
                                 for before, after in zip(cpu_before, (resource.getrusage(resource.RUSAGE_SELF),
                                                                       resource.getrusage(resource.RUSAGE_CHILDREN)),
                                                          strict=True))
        load_after = os.getloadavg()[0]
        size = index.size_bytes()
        build = (f"{elapsed:.1f} s, {chars / elapsed:,.0f} chars/s, {len(docs) / elapsed:,.1f} docs/s, "
                 f"{size / 1048576:.1f} MB on disk")
        print(f"whoosh index: {build}", flush=True)

        db = sqlite3.connect(str(workdir / "fts.db"))
        t0 = time.perf_counter()
        db.execute("CREATE TABLE plain (id INTEGER PRIMARY KEY, doc_id TEXT, text TEXT)")
        db.execute("CREATE VIRTUAL TABLE docs USING fts5(text, content='plain', content_rowid='id', "
                   "tokenize='trigram')")
        db.executemany("INSERT INTO plain (doc_id, text) VALUES (?, ?)",
                       ((d.doc_id, fold(d.title + "\n" + d.body)) for d in docs))
        db.execute("INSERT INTO docs (docs) VALUES ('rebuild')")
        db.commit()
        fts_elapsed = time.perf_counter() - t0
        fts_size = (workdir / "fts.db").stat().st_size
        print(f"sqlite fts5 trigram: {fts_elapsed:.1f} s, {chars / fts_elapsed:,.0f} chars/s, "
              f"{fts_size / 1048576:.1f} MB on disk", flush=True)

        texts = {d.doc_id: fold(d.title + "\n" + d.body) for d in docs}
        searcher = index.searcher()
        reader = searcher._whoosh.reader()
        id_of = {docnum: fields["doc_id"] for docnum, fields in reader.iter_docs()}

        header = (f"{'query':<26} {'truth':>6} {'whoosh':>6} {'fts5':>6} {'recall':>6} {'extra':>6} "
                  f"{'p50ms':>7} {'p95ms':>7} {'first':>7} {'cold':>7} {'fts p50':>8} {'fts p95':>8}")
        print(header)
        print("-" * len(header))
        all_ms: list[float] = []
        first_all: list[float] = []
        worst_recall = 1.0
        failures = []
        for query, truth_fn in QUERIES:
            truth = {doc_id for doc_id, text in texts.items() if truth_fn(text)}
            # Cold: no cached postings, document sets or texts (as after a rebuild or a worker start).
            engine.clear_caches()
            t0 = time.perf_counter()
            searcher.search(query, pagelen=10)
            cold_ms = (time.perf_counter() - t0) * 1000
            # First: a query this worker has not seen yet (texts already in memory, nothing else cached).
            engine.clear_caches(keep_texts=True)
            t0 = time.perf_counter()
            searcher.search(query, pagelen=10)
            first_ms = (time.perf_counter() - t0) * 1000
            first_all.append(first_ms)
            found = {id_of[n] for n in match_docnums(searcher._whoosh, query)}
            recall = len(found & truth) / len(truth) if truth else 1.0
            extra = len(found - truth)
            timings = []
            page = None
            for run in range(LATENCY_RUNS + 1):
                t0 = time.perf_counter()
                page = searcher.search(query, pagelen=10)
                if run:
                    timings.append((time.perf_counter() - t0) * 1000)
            assert page is not None and page.total == len(found), (query, page.total, len(found))
            all_ms += timings
            where, sql_args = fts_where(query)
            fts_timings = []
            fts_count = 0
            for run in range(4):
                t0 = time.perf_counter()
                fts_count = db.execute(f"SELECT count(*) FROM plain WHERE {where}", sql_args).fetchone()[0]
                db.execute(f"SELECT doc_id, substr(text, 1, 120) FROM plain WHERE {where} LIMIT 10",
                           sql_args).fetchall()
                if run:
                    fts_timings.append((time.perf_counter() - t0) * 1000)
            p50, p95 = percentile(timings, 50), percentile(timings, 95)
            print(f"{query:<26} {len(truth):>6} {len(found):>6} {fts_count:>6} {recall:>6.3f} {extra:>6} "
                  f"{p50:>7.1f} {p95:>7.1f} {first_ms:>7.1f} {cold_ms:>7.1f} "
                  f"{percentile(fts_timings, 50):>8.1f} {percentile(fts_timings, 95):>8.1f}",
                  flush=True)
            if recall < GOAL_RECALL or p50 > GOAL_P50_MS or p95 > GOAL_P95_MS:
                failures.append(query)
            worst_recall = min(worst_recall, recall)
        searcher.close()
        print("-" * len(header))
        print(f"all queries: p50 {percentile(all_ms, 50):.1f} ms, p95 {percentile(all_ms, 95):.1f} ms "
              f"(goal p50 <= {GOAL_P50_MS} ms, p95 <= {GOAL_P95_MS} ms, recall >= {GOAL_RECALL})")
        print(f"first-seen queries: p50 {percentile(first_all, 50):.1f} ms, p95 {percentile(first_all, 95):.1f} ms")
        print("queries missing a goal: " + (", ".join(failures) if failures else "none"))
        print("'extra' = hits beyond exact-substring truth: unquoted compounds also match their words apart.")
        print("fts5 columns: trigram MATCH for terms of 3+ characters, LIKE scan for shorter ones.")
        print("p50/p95: repeats of the query (per-process caches warm). 'first': the query's first run in a "
              "worker that has its texts loaded but no cached postings or sets. 'cold': every cache cleared "
              "(includes loading the folded texts of the whole index).")
        print(f"build: {chars:,} characters, {len(docs):,} documents in {build}; "
              f"procs {args.procs or os.cpu_count()}, CPU {cpu_self:.1f} s here + {cpu_workers:.1f} s in workers "
              f"({chars / (cpu_self + cpu_workers):,.0f} chars per CPU second), load average {load_before:.2f} before, "
              f"{load_after:.2f} after ({os.cpu_count()} CPUs)")
        if args.database_url:
            from search_pg import measure  # the PostgreSQL part needs only this folder on the path

            print(flush=True)
            pg = measure(args.database_url, docs, chars, QUERIES, texts,
                         {"recall": GOAL_RECALL, "p50": GOAL_P50_MS, "p95": GOAL_P95_MS}, percentile)
            worst_recall = min(worst_recall, pg["recall"])
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.check_recall and worst_recall < 1.0:
        print(f"recall below 1.0 (lowest {worst_recall:.3f})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
