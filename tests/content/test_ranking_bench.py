"""The graded query set of ``benchmarks/bench_ranking.py`` and its nDCG arithmetic."""
import importlib.util
import math
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_ranking.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_ranking", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ndcg_of_ideal_reversed_and_empty_rankings(bench):
    grades = {"a": 3, "b": 1}
    assert bench.ndcg(["a", "b"], grades) == 1.0
    assert bench.ndcg(["b", "a"], grades) == pytest.approx((1 + 7 / math.log2(3)) / (7 + 1 / math.log2(3)))
    assert bench.ndcg([], grades) == 0.0
    assert bench.ndcg(["x"] * 10 + ["a"], grades) == 0.0  # beyond the cutoff


def test_every_graded_document_exists(bench):
    data = bench.load_queries()
    ids = {d.doc_id for d in bench.benchmark_documents(data)}
    assert 20 <= len(data["queries"]) <= 30
    for item in data["queries"]:
        assert set(item["grades"]) <= ids, item["query"]
        assert all(0 <= g <= 3 for g in item["grades"].values())


def test_run_scores_a_perfect_backend_one(bench):
    data = bench.load_queries()
    answers = {item["query"]: sorted(item["grades"], key=item["grades"].get, reverse=True) for item in data["queries"]}
    assert bench.run(answers.__getitem__, data)["mean"] == 1.0
