"""What search boxes offer while typing: titles of courses and readings the user may open (:func:`suggest`),
and the places of a query inside the reading that is open (:func:`find_in_reading`).

Suggestions are served from the database rather than the index: titles are few (one row per course or
reading), so reading them is cheap, and a course is suggested the moment it is published, without waiting for
the queued index writer. Visibility is the search's own: courses of :func:`catalog.visible_course_ids_stmt`, readings of
:func:`readings.visible_readings` (attached to a visible course, or uploaded by the user; site admins see all).

Matching is by folded substring (:func:`content.fold`: full-width and case, and whatever the folding learns
later, such as Traditional characters), titles that start with the text first.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from markupsafe import Markup, escape
from sqlalchemy import select

import content
from elearn import policy
from elearn.courses import catalog
from elearn.courses.models import Course
from elearn.extensions import db
from elearn.orgs.models import User
from elearn.readings import services as readings
from elearn.readings.models import Reading
from elearn.search.services import COURSE_URL, READING_URL, highlight_paragraphs

#: How many titles a search box offers at most (more would not fit a phone's screen above the keyboard).
MAX_SUGGESTIONS = 8
KINDS = ("course", "reading")


@dataclass(frozen=True)
class Suggestion:
    """One title offered while typing."""

    kind: str  # "course" or "reading"
    kind_label: str
    title: str
    title_html: str  # escaped, the matched part in <mark>
    url: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "kind_label": self.kind_label, "title": self.title,
                "title_html": self.title_html, "url": self.url}


def _visible_titles(user: User) -> list[tuple[str, int, str]]:
    """(kind, id, title) of every course and reading ``user`` may open."""
    courses = db.session.execute(
        select(Course.id, Course.title).where(Course.id.in_(catalog.visible_course_ids_stmt(user)))).all()
    # A reading whose file never parsed has no text to open; the search does not index it either.
    shelf = [r for r in readings.visible_readings(user) if r.parsed_key]
    return [("course", cid, title) for cid, title in courses] + [("reading", r.id, r.title) for r in shelf]


def _marked(title: str, start: int, length: int) -> str:
    # fold keeps every character in its place, so the offsets in the folded title are offsets in the title.
    return str(escape(title[:start]) + Markup("<mark>") + escape(title[start:start + length])
               + Markup("</mark>") + escape(title[start + length:]))


def suggest(user: User, text: str, limit: int = MAX_SUGGESTIONS) -> list[Suggestion]:
    """Up to ``limit`` titles of courses and readings ``user`` may open that contain ``text``.

    Titles starting with the text come first, then those containing it earliest, then shorter ones.

    Args:
        user: whose visibility applies (site admins see every course and reading).
        text: what has been typed; surrounding blanks are ignored, blank text suggests nothing, and text
            longer than ``policy.SEARCH_QUERY_MAX_CHARS`` is cut there (no title is that long anyway).
        limit: at most this many suggestions.
    """
    needle = content.fold((text or "").strip()[:policy.SEARCH_QUERY_MAX_CHARS])
    if not needle or limit < 1:
        return []
    found = []
    for kind, object_id, title in _visible_titles(user):
        at = content.fold(title).find(needle)
        if at >= 0:
            found.append((at, kind, object_id, title))
    found.sort(key=lambda row: (row[0] != 0, row[0], len(row[3]), row[3], KINDS.index(row[1]), row[2]))
    out = []
    for at, kind, object_id, title in found[:limit]:
        url = COURSE_URL.format(course_id=object_id) if kind == "course" \
            else READING_URL.format(reading_id=object_id)
        out.append(Suggestion(kind=kind, kind_label=str(policy.SEARCH_KINDS[kind]), title=title,
                              title_html=_marked(title, at, len(needle)), url=url))
    return out


@dataclass(frozen=True)
class FoundInReading:
    """The marked paragraphs (and section headings) of a reading, in reading order."""

    query: str
    matches: list[tuple[str, str]]  # (element id, escaped HTML with the matches in <mark>)

    @property
    def count(self) -> int:
        """How many places are marked (a paragraph may hold several)."""
        return sum(html.count("<mark>") for _id, html in self.matches)


def find_in_reading(reading: Reading, query: str) -> FoundInReading:
    """Where ``query`` occurs in ``reading``, with the site search's semantics (its literals, folded).

    The caller has checked that the user may open the reading. Marks exactly what the reader page marks for
    ``?q=`` (section headings included), so finding without a reload and with one agree.

    Args:
        reading: a parsed reading.
        query: the search text; blank, invalid or over-long text finds nothing.
    """
    query = (query or "").strip()
    parsed = readings.load(reading)
    headings = [SimpleNamespace(id=s.id, text=s.title) for s in parsed.sections if s.title]
    marked = highlight_paragraphs([*headings, *parsed.paragraphs], query)
    in_order = [i for s in parsed.sections for i in ([s.id] if s.title else []) + [p.id for p in s.paragraphs]]
    return FoundInReading(query=query, matches=[(i, marked[i]) for i in in_order if i in marked])
