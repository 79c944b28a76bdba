"""Pure arithmetic on sets of half-open media intervals ``[start, end)`` in seconds.

A set is a list of ``(start, end)`` pairs. :func:`normalise` turns any list into the canonical form every other
function returns and expects: sorted, non-empty, non-overlapping, non-touching pairs of floats. No I/O, no
Flask, no database: the study service keeps its rules here so they can be property-tested in isolation.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from math import isfinite

Interval = tuple[float, float]
Intervals = list[Interval]

# Floating-point noise from client clocks: gaps narrower than this are closed when merging.
EPSILON = 1e-6


def normalise(pairs: Iterable[Sequence[float]]) -> Intervals:
    """The canonical union of ``pairs``: sorted, merged, empty ones dropped.

    Raises ``ValueError`` for a pair that is not two finite numbers.
    """
    cleaned: list[Interval] = []
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError("an interval has exactly two ends")
        start, end = float(pair[0]), float(pair[1])
        if not (isfinite(start) and isfinite(end)):
            raise ValueError("interval ends must be finite numbers")
        if end - start > EPSILON:
            cleaned.append((start, end))
    cleaned.sort()
    out: Intervals = []
    for start, end in cleaned:
        if out and start <= out[-1][1] + EPSILON:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def union(a: Iterable[Sequence[float]], b: Iterable[Sequence[float]]) -> Intervals:
    return normalise([*a, *b])


def length(a: Intervals) -> float:
    """Total length of a normalised set."""
    return sum(end - start for start, end in a)


def clip(a: Intervals, lo: float, hi: float) -> Intervals:
    """The part of ``a`` inside ``[lo, hi]``."""
    out: Intervals = []
    for start, end in a:
        s, e = max(start, lo), min(end, hi)
        if e - s > EPSILON:
            out.append((s, e))
    return out


def intersect(a: Intervals, b: Intervals) -> Intervals:
    """The intersection of two normalised sets (linear merge)."""
    out: Intervals = []
    i = j = 0
    while i < len(a) and j < len(b):
        s = max(a[i][0], b[j][0])
        e = min(a[i][1], b[j][1])
        if e - s > EPSILON:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Intervals, b: Intervals) -> Intervals:
    """``a`` minus ``b``, both normalised."""
    out: Intervals = []
    j = 0
    for start, end in a:
        cur = start
        while j < len(b) and b[j][1] <= cur:
            j += 1
        k = j
        while k < len(b) and b[k][0] < end:
            if b[k][0] - cur > EPSILON:
                out.append((cur, b[k][0]))
            cur = max(cur, b[k][1])
            k += 1
        if end - cur > EPSILON:
            out.append((cur, end))
    return out


def take(a: Intervals, budget: float) -> Intervals:
    """The first ``budget`` seconds of ``a`` (in media order); all of ``a`` if it is shorter."""
    out: Intervals = []
    left = budget
    for start, end in a:
        if left <= EPSILON:
            break
        e = min(end, start + left)
        out.append((start, e))
        left -= e - start
    return out


def to_json(a: Intervals) -> list[list[float]]:
    """A compact JSON form (millisecond precision is plenty for watch time)."""
    return [[round(s, 3), round(e, 3)] for s, e in a]
