"""Snippets with the matched words marked, safe to put into a page.

The highlighter works on the query's literal strings rather than on whoosh's analyzer token
offsets: what a query matches is exact (folded) text, so finding that text again in the stored
body is both simpler and exact for Chinese, where word tokens overlap.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

from .analysis import fold

#: Length of a snippet, in characters of the original text.
SNIPPET_CHARS = 120
#: Characters shown before the first match in a snippet.
SNIPPET_LEAD_CHARS = 20
#: Matches considered when choosing the best window (keeps long documents cheap).
MAX_MATCHES = 500


@dataclass
class Snippet:
    """A highlighted excerpt: ``html`` (escaped, matches in ``<mark>``) and ``first_match``
    (offset in the full text of the first match shown in the snippet, or None)."""

    html: str
    first_match: int | None


def find_matches(text: str, literals: list[str]) -> list[tuple[int, int]]:
    """Return the non-overlapping (start, end) spans of ``literals`` in ``text``, in order.

    Matching is on folded text (``content.analysis.fold``: width, case, Traditional to Simplified, one
    character for one, so the spans mark the original characters), longer literals winning where they overlap.

    Args:
        text: the text to search.
        literals: folded strings to find (empty strings are ignored).
    """
    folded = fold(text)
    spans: list[tuple[int, int]] = []
    for literal in sorted({lit for lit in literals if lit}, key=len, reverse=True):
        start = folded.find(literal)
        while start != -1 and len(spans) < MAX_MATCHES:
            spans.append((start, start + len(literal)))
            start = folded.find(literal, start + 1)
    spans.sort(key=lambda span: (span[0], -span[1]))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            # Overlapping matches ("党员" inside "党员教育") become one marked stretch.
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
            continue
        merged.append((start, end))
    return merged


def _best_window(spans: list[tuple[int, int]], length: int, size: int) -> int:
    """Start offset of the ``size``-character window with the most matched text.

    Longer matches weigh more (squared length), so a window with the whole phrase beats one
    with several stray single characters.
    """
    best_start, best_weight = 0, -1
    j, weight = 0, 0
    for i, (start, end) in enumerate(spans):
        if j <= i:
            j, weight = i + 1, (end - start) ** 2
        while j < len(spans) and spans[j][1] <= start + size - SNIPPET_LEAD_CHARS:
            weight += (spans[j][1] - spans[j][0]) ** 2
            j += 1
        if weight > best_weight:
            best_start, best_weight = start, weight
        weight -= (end - start) ** 2
    return max(0, min(best_start - SNIPPET_LEAD_CHARS, length - size))


def highlight(text: str, literals: list[str], *, size: int = SNIPPET_CHARS) -> Snippet:
    """Make an HTML snippet of ``text`` around the densest group of matches.

    Everything is HTML-escaped; matches are wrapped in ``<mark>…</mark>``. An ellipsis marks text
    cut off at either end. Without matches the snippet is the start of the text.

    Args:
        text: the stored text (plain text, may contain ``<`` etc.).
        literals: folded strings to mark, as produced by ``content.query.parse_query``.
        size: snippet length in characters; ``0`` or less means the whole text.
    """
    spans = find_matches(text, literals)
    if size <= 0 or len(text) <= size:
        start, end = 0, len(text)
    else:
        start = _best_window(spans, len(text), size) if spans else 0
        end = start + size
    parts = ["…"] if start > 0 else []
    cursor = start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        parts.append(escape(text[cursor:span_start]))
        parts.append("<mark>" + escape(text[span_start:span_end]) + "</mark>")
        cursor = span_end
    parts.append(escape(text[cursor:end]))
    if end < len(text):
        parts.append("…")
    snippet_html = "".join(parts).replace("\n", " ")
    shown = [s for s, e in spans if e > start and s < end]
    return Snippet(html=snippet_html, first_match=shown[0] if shown else None)
