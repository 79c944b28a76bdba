"""Interval arithmetic: examples and properties (hypothesis) against a brute-force model on a grid."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elearn.study import intervals as iv

# Pairs on a 0.5-second grid keep the brute-force model exact.
point = st.integers(min_value=0, max_value=80).map(lambda x: x / 2)
pair = st.tuples(point, point).map(lambda p: (min(p), max(p)))
pairs = st.lists(pair, max_size=12)


def cells(a):
    """The set of 0.5-s cells covered: a discrete model of a normalised set."""
    return {k for s, e in a for k in range(int(s * 2), int(e * 2))}


def test_examples():
    assert iv.normalise([[5, 10], [0, 2], [2, 3], [9, 12], [20, 20]]) == [(0, 3), (5, 12)]
    assert iv.length([(0, 3), (5, 12)]) == 10
    assert iv.clip([(0, 3), (5, 12)], 1, 6) == [(1, 3), (5, 6)]
    assert iv.subtract([(0, 10)], [(2, 3), (5, 6)]) == [(0, 2), (3, 5), (6, 10)]
    assert iv.intersect([(0, 10)], [(2, 3), (9, 12)]) == [(2, 3), (9, 10)]
    assert iv.take([(0, 2), (5, 10)], 4) == [(0, 2), (5, 7)]
    assert iv.take([(0, 2)], 0) == []


@pytest.mark.parametrize("bad", [[[1]], [[1, 2, 3]], [[float("nan"), 1]], [[0, float("inf")]]])
def test_normalise_refuses_malformed(bad):
    with pytest.raises(ValueError):
        iv.normalise(bad)


def is_canonical(a):
    return all(s < e for s, e in a) and all(a[i][1] < a[i + 1][0] for i in range(len(a) - 1))


@settings(max_examples=200)
@given(pairs, pairs)
def test_union_is_set_union_and_canonical(a, b):
    u = iv.union(a, b)
    assert is_canonical(u)
    assert cells(u) == cells(a) | cells(b)
    assert iv.length(u) == pytest.approx(len(cells(u)) / 2)


@settings(max_examples=200)
@given(pairs, pairs, pairs)
def test_union_order_independent_and_idempotent(a, b, c):
    assert iv.union(iv.union(a, b), c) == iv.union(a, iv.union(c, b))
    u = iv.normalise(a)
    assert iv.union(u, u) == u
    assert iv.normalise(list(reversed(a))) == u


@settings(max_examples=200)
@given(pairs, point, point)
def test_clip(a, lo, hi):
    lo, hi = min(lo, hi), max(lo, hi)
    c = iv.clip(iv.normalise(a), lo, hi)
    assert cells(c) == {k for k in cells(iv.normalise(a)) if lo * 2 <= k < hi * 2}


@settings(max_examples=200)
@given(pairs, pairs)
def test_subtract_and_intersect(a, b):
    na, nb = iv.normalise(a), iv.normalise(b)
    d = iv.subtract(na, nb)
    i = iv.intersect(na, nb)
    assert is_canonical(d) and is_canonical(i)
    assert cells(d) == cells(na) - cells(nb)
    assert cells(i) == cells(na) & cells(nb)
    assert iv.length(d) + iv.length(i) == pytest.approx(iv.length(na))


@settings(max_examples=200)
@given(pairs, st.integers(min_value=0, max_value=100).map(lambda x: x / 2))
def test_take_is_a_prefix_of_at_most_budget(a, budget):
    na = iv.normalise(a)
    t = iv.take(na, budget)
    assert iv.length(t) == pytest.approx(min(budget, iv.length(na)))
    assert iv.subtract(t, na) == []
