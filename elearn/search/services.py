"""Full-text search over readings, courses, lessons and subtitles (the ``content`` whoosh index).

Writes go through the job queue so that one worker writes at a time: the domains that change what is indexed
enqueue the handles of :mod:`elearn.search.tasks` (``index_course``, ``index_lesson``, ``index_reading``,
``index_course_audience``, ``remove``), which call the ``write_*`` functions here. Web workers only read,
through one cached searcher per process and thread that refreshes itself when the index changed.

With PostgreSQL (``ELEARN_SEARCH_BACKEND`` "auto" on a PostgreSQL database, or "postgresql") the documents
live in a table of the database instead (``content.pgsearch``): :mod:`elearn.search.tracking` writes them in
the same transaction as the content they describe, and the jobs rewrite them after commit as well (harmless,
and the repair path).

Who sees what is decided when searching, not when indexing: every document carries the audience token
``course:<id>`` of its course (a reading one per course it is attached to, plus ``user:<uploader id>``), and a
search passes the tokens of the courses the user may view now (:func:`catalog.visible_course_ids`). Publishing
therefore changes visibility at once; the index only needs refreshing for the series/sector filters.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

import content
from content import pgsearch
from content.highlight import find_matches
from elearn import policy
from elearn.access import Role
from elearn.courses import catalog
from elearn.courses.models import Course, Lesson, Series, SeriesCourse
from elearn.errors import ServiceError
from elearn.extensions import db, existing
from elearn.media import services as media
from elearn.orgs.models import User
from elearn.readings import services as readings
from elearn.readings.models import CourseReading, Reading
from elearn.search.models import search_documents

KINDS = tuple(policy.SEARCH_KINDS)
#: Link targets of results (plain paths so the CLI can build them without a request). The reader scrolls
#: to ``#<paragraph id>`` and marks ``?q=``; the player of a lesson seeks to ``?t=<seconds>``.
READING_URL = "/readings/{reading_id}"
LESSON_URL = "/learn/lessons/{lesson_id}"
COURSE_URL = "/learn/courses/{course_id}"


class SearchQueryError(ServiceError):
    """The query cannot be searched; the message is for the person searching."""

    def __init__(self, message: str):
        super().__init__(message, "bad_query")


# --- the backend, the index and the per-process searcher ------------------------------------------

BACKENDS = ("auto", "whoosh", "postgresql")


def uses_database(session=None) -> bool:
    """Whether documents live in the database (PostgreSQL backend) rather than in the whoosh index."""
    choice = current_app.config.get("ELEARN_SEARCH_BACKEND", "auto")
    if choice not in BACKENDS:
        raise RuntimeError(f"ELEARN_SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {choice!r}")
    dialect = (session or db.session).get_bind().dialect.name
    if choice == "postgresql" and dialect != "postgresql":
        raise RuntimeError("ELEARN_SEARCH_BACKEND=postgresql needs a PostgreSQL DATABASE_URL")
    return choice != "whoosh" and dialect == "postgresql"


def _pg() -> pgsearch.PgSearch:
    return pgsearch.PgSearch(db.session, search_documents)


def _writer():
    """Where documents are written: the database table (in the session's transaction) or the whoosh index."""
    return _pg() if uses_database() else get_index()


def _done(written: int, commit: bool) -> int:
    if commit and uses_database():
        db.session.commit()
    return written


def get_index() -> content.SearchIndex:
    """The search index of this app (``ELEARN_INDEX_DIR``), created empty if missing."""
    return content.SearchIndex(current_app.config["ELEARN_INDEX_DIR"]).create_or_open()


_searchers = threading.local()


def _searcher() -> content.Searcher:
    """This thread's long-lived searcher of the app's index (content's Searcher is not shared between threads).

    ``Searcher.search`` refreshes itself when a commit or a rebuild changed the index and retries when a
    generation vanishes while it opens.
    """
    cache: dict = getattr(_searchers, "by_path", None) or {}
    _searchers.by_path = cache
    path = current_app.config["ELEARN_INDEX_DIR"]
    searcher = cache.get(path)
    if searcher is None:
        searcher = content.Searcher(get_index())
        cache[path] = searcher
    return searcher


def _forget_searcher() -> None:
    cache = getattr(_searchers, "by_path", None) or {}
    searcher = cache.pop(current_app.config["ELEARN_INDEX_DIR"], None)
    if searcher is not None:
        searcher.close()


# --- documents -------------------------------------------------------------------------------------

@dataclass
class _Audience:
    series: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)


def _course_audiences(course_ids: list[int]) -> dict[int, _Audience]:
    """Filter tokens per course: the published series containing it and the sectors they target."""
    out = {cid: _Audience() for cid in course_ids}
    if not course_ids:
        return out
    rows = db.session.execute(
        select(SeriesCourse.course_id, Series)
        .join(Series, Series.id == SeriesCourse.series_id)
        .where(SeriesCourse.course_id.in_(course_ids), Series.published.is_(True))).all()
    for course_id, series in rows:
        aud = out[course_id]
        if str(series.id) not in aud.series:
            aud.series.append(str(series.id))
        for target in series.targets:
            if target.kind == "sector" and target.sector and target.sector not in aud.sectors:
                aud.sectors.append(target.sector)
    return out


def lesson_cues(lesson: Lesson) -> list[tuple[float, str]]:
    """(start seconds, text) of the lesson's subtitle track (Chinese preferred), or [] without subtitles."""
    return [(start, text) for start, _end, text in media.subtitle_cues(lesson)]


def course_documents(course: Course, audience: _Audience | None = None) -> list[content.IndexDoc]:
    """Index documents of a course: the course itself, each lesson, each lesson's subtitle chunks."""
    audience = audience or _course_audiences([course.id])[course.id]
    docs = [content.IndexDoc(doc_id=f"course:{course.id}", kind="course", title=course.title,
                             body=course.description or "", course_id=course.id, series=audience.series,
                             sectors=audience.sectors, audience=[f"course:{course.id}"])]
    for lesson in course.lessons:
        docs.extend(lesson_documents(lesson, audience))
    return docs


def lesson_documents(lesson: Lesson, audience: _Audience | None = None) -> list[content.IndexDoc]:
    """Index documents of a lesson: its title/description and its subtitle chunks."""
    audience = audience or _course_audiences([lesson.course_id])[lesson.course_id]
    tokens = [f"course:{lesson.course_id}"]
    docs = [content.IndexDoc(doc_id=f"lesson:{lesson.id}", kind="lesson", title=lesson.title,
                             body=lesson.description or "", course_id=lesson.course_id, lesson_id=lesson.id,
                             series=audience.series, sectors=audience.sectors, audience=tokens)]
    cues = lesson_cues(lesson)
    if cues:
        docs.extend(content.subtitle_documents(cues, lesson.id, title=lesson.title, course_id=lesson.course_id,
                                               series=audience.series, sectors=audience.sectors,
                                               audience=tokens))
    return docs


def reading_documents(reading: Reading) -> list[content.IndexDoc]:
    """Index documents of a reading: chunks of its text, visible through each course it is attached to."""
    course_ids = readings.attached_course_ids(reading.id)
    audiences = _course_audiences(course_ids)
    series = sorted({s for a in audiences.values() for s in a.series})
    sectors = sorted({s for a in audiences.values() for s in a.sectors})
    tokens = [f"course:{cid}" for cid in sorted(course_ids)] + [f"user:{reading.uploaded_by_id}"]
    return content.reading_documents(readings.load(reading), reading.id, title=reading.title, series=series,
                                     sectors=sectors, audience=tokens)


# --- writing (called by the jobs) ------------------------------------------------------------------

def write_course(course_id: int, *, commit: bool = True) -> int:
    """Replace every document of a course (course, lessons, subtitles); remove them if the course is gone.

    ``commit=False`` leaves a database write in the caller's transaction (the PostgreSQL backend's hook).
    """
    course = db.session.get(Course, course_id)
    docs = course_documents(course) if course is not None else []
    return _done(_writer().replace_by("course_id", course_id, docs), commit)


def write_lesson(lesson_id: int, *, commit: bool = True) -> int:
    """Replace the documents of one lesson (title/description and subtitles); remove them if it is gone."""
    lesson = db.session.get(Lesson, lesson_id)
    docs = lesson_documents(lesson) if lesson is not None else []
    return _done(_writer().replace_by("lesson_id", lesson_id, docs), commit)


def write_reading(reading_id: int, *, commit: bool = True) -> int:
    """Replace the chunks of a reading; remove them if the reading is gone."""
    reading = db.session.get(Reading, reading_id)
    docs = reading_documents(reading) if reading is not None and reading.parsed_key else []
    return _done(_writer().replace_by("reading_id", reading_id, docs), commit)


def attached_reading_ids(course_id: int) -> list[int]:
    """The readings attached to a course (their audience follows the course's)."""
    return list(db.session.execute(select(CourseReading.reading_id)
                                   .where(CourseReading.course_id == course_id)).scalars())


def write_course_audience(course_id: int) -> int:
    """Re-index a course and every reading attached to it (their series/sector tokens changed)."""
    written = write_course(course_id)
    for reading_id in attached_reading_ids(course_id):
        written += write_reading(reading_id)
    return written


def write_remove(kind: str, object_id: int) -> int:
    """Delete documents of a course, lesson, a lesson's subtitles, or a reading."""
    index = _writer()
    if kind == "course":
        return _done(index.delete_by("course_id", object_id), True)
    if kind == "lesson":
        return _done(index.delete_by("lesson_id", object_id), True)
    if kind == "reading":
        return _done(index.delete_by("reading_id", object_id), True)
    if kind == "subtitle":
        lesson = db.session.get(Lesson, object_id)
        docs = [d for d in lesson_documents(lesson) if d.kind != "subtitle"] if lesson is not None else []
        return _done(index.replace_by("lesson_id", object_id, docs), True)
    raise ValueError(f"unknown search kind {kind!r}")


def all_documents() -> Iterator[content.IndexDoc]:
    """Every document the index should hold (for a full rebuild)."""
    course_ids = list(db.session.execute(select(Course.id).order_by(Course.id)).scalars())
    audiences = _course_audiences(course_ids)
    for course_id in course_ids:
        course = existing(Course, course_id)
        yield from course_documents(course, audiences[course_id])
    reading_ids = list(db.session.execute(select(Reading.id).where(Reading.parsed_key.is_not(None))
                                          .order_by(Reading.id)).scalars())
    for reading_id in reading_ids:
        reading = existing(Reading, reading_id)
        yield from reading_documents(reading)


def rebuild_if_outdated() -> int:
    """Rebuild the whoosh index if code with another index format or text analysis wrote it (say a new folding
    of Traditional characters): its documents would otherwise not match what queries now look for. Returns the
    number of documents indexed, 0 when nothing was needed (or the documents live in PostgreSQL, where
    ``elearn reindex`` is the upgrade step)."""
    if uses_database() or get_index().format_is_current():
        return 0
    return rebuild()


def rebuild() -> int:
    """Build a new index generation from the database and swap it in; returns the number of documents."""
    count = _writer().rebuild(all_documents())
    return _done(count, True)


# --- searching -------------------------------------------------------------------------------------

@dataclass
class Result:
    """One result, ready for a page or JSON."""

    kind: str
    kind_label: str
    title: str
    title_html: str
    snippet_html: str
    url: str
    reading_id: int | None = None
    course_id: int | None = None
    lesson_id: int | None = None
    anchor: str | None = None
    seconds: float | None = None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "kind_label"} | \
            {"kind_label": str(self.kind_label)}


@dataclass
class Results:
    query: str
    total: int
    page: int
    pagecount: int
    hits: list[Result]

    def to_dict(self) -> dict:
        return {"query": self.query, "total": self.total, "page": self.page, "pagecount": self.pagecount,
                "hits": [h.to_dict() for h in self.hits]}


def allowed_tokens(user: User) -> set[str] | None:
    """Audience tokens ``user`` may see; None (no restriction) for site admins."""
    if user.role == Role.SITE_ADMIN:
        return None
    return {f"course:{cid}" for cid in catalog.visible_course_ids(user)} | {f"user:{user.id}"}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _format_seconds(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _result(hit: content.SearchHit, query: str) -> Result:
    label = policy.SEARCH_KINDS.get(hit.kind, hit.kind)
    reading_id, course_id, lesson_id = _int(hit.reading_id), _int(hit.course_id), _int(hit.lesson_id)
    result = Result(kind=hit.kind, kind_label=label, title=hit.title, title_html=hit.title_html,
                    snippet_html=hit.snippet_html, url="#", reading_id=reading_id, course_id=course_id,
                    lesson_id=lesson_id)
    if hit.kind == "reading" and reading_id is not None:
        result.anchor = str(hit.anchor) if hit.anchor else None
        result.url = READING_URL.format(reading_id=reading_id) + "?" + urlencode({"q": query}) + \
            (f"#{result.anchor}" if result.anchor else "")
    elif hit.kind == "subtitle" and lesson_id is not None:
        result.seconds = float(hit.anchor or 0)
        result.url = LESSON_URL.format(lesson_id=lesson_id) + "?" + urlencode({"t": int(result.seconds)})
        result.title = f"{hit.title} · {_format_seconds(result.seconds)}"
        result.title_html = f"{hit.title_html} · {_format_seconds(result.seconds)}"
    elif hit.kind == "lesson" and lesson_id is not None:
        result.url = LESSON_URL.format(lesson_id=lesson_id)
    elif course_id is not None:
        result.url = COURSE_URL.format(course_id=course_id)
    return result


def search(user: User, query: str, *, kind: str | None = None, series: str | None = None,
           sector: str | None = None, page: int = 1, pagelen: int | None = None) -> Results:
    """Search what ``user`` may see.

    Args:
        query: words, "phrases", AND/OR/NOT (see ``content.parse_query``).
        kind: one of ``policy.SEARCH_KINDS`` or None for all.
        series: a series id (only results of courses in it) or None.
        sector: a sector code of ``policy.SECTORS`` or None.
        page: from 1.
        pagelen: results per page (default ``policy.SEARCH_PAGE_SIZE``).

    Raises:
        SearchQueryError: the query or a filter is invalid (400, message for the user).
    """
    query = (query or "").strip()
    if not query:
        raise SearchQueryError(_("请输入要搜索的内容。"))
    if len(query) > policy.SEARCH_QUERY_MAX_CHARS:
        raise SearchQueryError(_("搜索内容太长（最多 %(n)d 个字）。", n=policy.SEARCH_QUERY_MAX_CHARS))
    if kind and kind not in policy.SEARCH_KINDS:
        raise SearchQueryError(_("结果类型无效。"))
    if sector and sector not in policy.SECTORS:
        raise SearchQueryError(_("领域无效。"))
    if series and _int(series) is None:
        raise SearchQueryError(_("专题无效。"))
    if page < 1 or page > 10_000:
        raise SearchQueryError(_("页码无效。"))
    allowed = allowed_tokens(user)

    def run() -> content.SearchPage:
        if uses_database():
            return _pg().search(query, kinds=[kind] if kind else None,
                                series=[str(int(series))] if series else None,
                                sectors=[sector] if sector else None, allowed=allowed, page=page,
                                pagelen=pagelen or policy.SEARCH_PAGE_SIZE)
        return _searcher().search(query, kinds=[kind] if kind else None,
                                  series=[str(int(series))] if series else None,
                                  sectors=[sector] if sector else None, allowed=allowed, page=page,
                                  pagelen=pagelen or policy.SEARCH_PAGE_SIZE)

    try:
        found = run()
    except content.QueryError as exc:
        raise SearchQueryError(_("无法理解这个搜索：%(reason)s", reason=str(exc))) from exc
    except RuntimeError:
        # The cached searcher could not follow the index (e.g. its directory was replaced): start afresh once.
        _forget_searcher()
        found = run()
    return Results(query=query, total=found.total, page=found.page, pagecount=found.pagecount,
                   hits=[_result(hit, query) for hit in found.hits])


def highlight_paragraphs(paragraphs, query: str | None) -> dict[str, str]:
    """HTML (escaped, matches in ``<mark>``) of the paragraphs that contain the terms of ``query``.

    ``paragraphs``: objects with ``id`` and ``text`` (section headings can be passed as such too).
    Returns id → HTML for those with matches only; an invalid query marks nothing.
    """
    if not query or len(query) > policy.SEARCH_QUERY_MAX_CHARS:
        return {}
    try:
        literals = content.parse_query(query).literals
    except content.QueryError:
        return {}
    out = {}
    for paragraph in paragraphs:
        if find_matches(paragraph.text, literals):
            out[paragraph.id] = content.highlight(paragraph.text, literals, size=0).html
    return out


def series_choices(user: User) -> list[tuple[str, str]]:
    """(id, title) of the series ``user`` may filter by."""
    if user.role == Role.SITE_ADMIN:
        rows: Iterable[Series] = db.session.execute(
            select(Series).where(Series.published.is_(True)).order_by(Series.title)).scalars()
    else:
        rows = catalog.series_for(user)
    return [(str(s.id), s.title) for s in rows]

