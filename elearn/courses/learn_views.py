"""Learning pages: the catalog (``/learn/``) and my courses (``/learn/mine``), a course's lessons with the
member's progress, and the lesson player (the HLS files it plays are served by :mod:`elearn.media.views`)."""
from __future__ import annotations

import re

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from elearn.community import panels as community
from elearn.courses import catalog_search, my_courses
from elearn.courses import services as courses
from elearn.courses.catalog import can_view_course, can_view_lesson, series_for
from elearn.courses.models import Course, Lesson
from elearn.errors import NotFound
from elearn.extensions import db
from elearn.media import services as media
from elearn.policy import API_PAGING, CONTENT_CATEGORIES, LEARN_HOME, POLICY, SEARCH_QUERY_MAX_CHARS
from elearn.quiz import services as quizzes
from elearn.readings import services as readings
from elearn.study import services as study

bp = Blueprint("learn", __name__, url_prefix="/learn")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = [("learn.catalog", _l("课程"), None), ("learn.mine", _l("我的课程"), None)]


def _course_or_404(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None or not can_view_course(current_user, course):
        abort(404)
    return course


def _lesson_or_404(lesson_id: int) -> Lesson:
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or not can_view_lesson(current_user, lesson):
        abort(404)
    return lesson


@bp.get("/courses/<int:course_id>")
@login_required
def course(course_id: int):
    """A course: description, lessons with duration and the member's progress, readings."""
    course = _course_or_404(course_id)
    progress = study.course_progress(current_user, course)
    lessons = []
    for les in course.lessons:
        state = progress.get(les.id)
        lessons.append({"id": les.id, "title": les.title, "duration_s": les.duration_s,
                        "playable": les.duration_s is not None,
                        "completed": bool(state and state.completed),
                        "percent": int(min(state.coverage, 1.0) * 100) if state else 0})
    reading_rows = [{"id": r.id, "title": r.title, "minutes": int(r.estimated_minutes)}
                    for r in readings.course_readings(course)]
    quiz_rows = []
    for quiz in quizzes.quizzes_of(course):
        attempts = quizzes.attempts_of(current_user, quiz)
        quiz_rows.append({"id": quiz.id, "title": quiz.title, "hours": quiz.hours, "used": len(attempts),
                          "max_attempts": quiz.max_attempts, "passed": any(a.passed for a in attempts)})
    return render_template("courses/learn/course.html", course=course, lessons=lessons, readings=reading_rows,
                           quizzes=quiz_rows, community=community.course_panel(current_user, course),
                           description_html=courses.render_markdown(course.description))


def _start_at(raw: str | None) -> float | None:
    """The ``?t=<seconds>`` of a search hit; None when absent or not a number (the media service clips it)."""
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


@bp.get("/lessons/<int:lesson_id>")
@login_required
def lesson(lesson_id: int):
    """The player: adaptive HLS, quality and speed choice, captions, seek previews, resume."""
    lesson = _lesson_or_404(lesson_id)
    player = media.lesson_player(current_user, lesson, _start_at(request.args.get("t")))
    siblings = lesson.course.lessons
    index = siblings.index(lesson)
    progress = study.lesson_progress(current_user, lesson) if player is not None else None
    return render_template("courses/learn/lesson.html", lesson=lesson, course=lesson.course, player=player,
                           progress=progress, threshold=round(POLICY.completion_coverage * 100),
                           previous=siblings[index - 1] if index > 0 else None,
                           next=siblings[index + 1] if index + 1 < len(siblings) else None,
                           description_html=courses.render_markdown(lesson.description),
                           community=community.lesson_panel(current_user, lesson))


# The catalog's kind chips: (value, label, the query's fields).
KINDS = {
    "required": (_l("必修"), {"required": True}),
    "elective": (_l("选修"), {"required": False}),
    "new": (_l("新上线"), {"new": True}),
}


def _whole(raw: str | None, low: int, high: int) -> int | None:
    """A whole number within [low, high] of a query argument; None when absent, malformed or out of range."""
    if raw is None or not re.fullmatch(r"[0-9]{1,12}", raw.strip()):
        return None
    value = int(raw.strip())
    return value if low <= value <= high else None


def _catalog_filters(args, series_ids: set[int]) -> tuple[dict, dict, list[str]]:
    """The catalog's filters from the page's query string: (the query's fields, what the form shows, notes on
    values that were ignored). A malformed or unknown value is ignored with a note, never an error page."""
    fields: dict = {}
    shown = {"q": "", "category": "", "series": "", "theory": "", "hours": "", "kind": ""}
    notes: list[str] = []
    q = (args.get("q") or "").strip()
    if len(q) > SEARCH_QUERY_MAX_CHARS:
        notes.append(_("搜索词过长（最多 %(n)d 个字），已截断。", n=SEARCH_QUERY_MAX_CHARS))
        q = q[:SEARCH_QUERY_MAX_CHARS]
    shown["q"] = q
    category = args.get("category") or ""
    if category in CONTENT_CATEGORIES:
        fields["category"] = shown["category"] = category
    elif category:
        notes.append(_("未知的内容类别，已忽略。"))
    raw_series = args.get("series") or ""
    series_id = _whole(raw_series, 1, 2**31)
    if series_id is not None and series_id in series_ids:
        fields["series_id"] = series_id
        shown["series"] = str(series_id)
    elif raw_series:
        notes.append(_("没有这个专题，已忽略。"))
    theory = args.get("theory") or ""
    if theory in ("1", "0"):
        fields["innovative_theory"] = theory == "1"
        shown["theory"] = theory
    elif theory:
        notes.append(_("“创新理论”筛选的值无效，已忽略。"))
    hours = args.get("hours") or ""
    bucket = next((b for b in LEARN_HOME.hours_buckets if b[0] == hours), None)
    if bucket is not None:
        fields["hours_min"], fields["hours_max"] = bucket[1], bucket[2]
        shown["hours"] = hours
    elif hours:
        notes.append(_("学时筛选的值无效，已忽略。"))
    kind = args.get("kind") or ""
    if kind in KINDS:
        fields.update(KINDS[kind][1])
        shown["kind"] = kind
    elif kind:
        notes.append(_("课程类型筛选的值无效，已忽略。"))
    return fields, shown, notes


def _page_number(args, notes: list[str]) -> int:
    raw = args.get("page")
    if raw is None or raw == "":
        return 1
    page = _whole(raw, 1, API_PAGING.page_max)
    if page is None:
        notes.append(_("页码无效（应为 1 至 %(n)d），已显示第 1 页。", n=API_PAGING.page_max))
        return 1
    return page


def _listing(template: str, *, mine: bool):
    user = current_user
    visible_series = series_for(user)
    fields, shown, notes = _catalog_filters(request.args, {s.id for s in visible_series})
    page = _page_number(request.args, notes)
    if shown["q"]:
        fields["course_ids"] = catalog_search.searched_course_ids(user, shown["q"])
    query = catalog_search.CatalogQuery(**fields, mine=mine, page=page, per_page=LEARN_HOME.catalog_per_page)
    entries, total = catalog_search.catalog_page(user, query)
    pages = max(1, -(-total // query.per_page))
    if total and page > pages:
        notes.append(_("第 %(p)d 页没有课程（共 %(n)d 页）。", p=page, n=pages))
    base_args = {k: v for k, v in shown.items() if v}
    chips = []
    labels = {
        "category": lambda v: CONTENT_CATEGORIES[v],
        "series": lambda v: next((s.title for s in visible_series if str(s.id) == v), v),
        "theory": lambda v: _("创新理论") if v == "1" else _("非创新理论"),
        "hours": lambda v: _hours_label(v),
        "kind": lambda v: KINDS[v][0],
        "q": lambda v: _("搜索：%(q)s", q=v),
    }
    for key, value in base_args.items():
        rest = {k: v for k, v in base_args.items() if k != key}
        chips.append({"label": labels[key](value), "remove": url_for(request.endpoint or "learn.catalog", **rest)})
    return render_template(
        template, entries=entries, total=total, page=page, pages=pages, shown=shown, notes=notes, chips=chips,
        series_options=[(s.id, s.title) for s in visible_series], categories=CONTENT_CATEGORIES,
        hours_options=[(b[0], _hours_label(b[0])) for b in LEARN_HOME.hours_buckets],
        kinds=[(k, v[0]) for k, v in KINDS.items()],
        prev_url=url_for(request.endpoint or "learn.catalog", **base_args, page=page - 1) if page > 1 else None,
        next_url=url_for(request.endpoint or "learn.catalog", **base_args, page=page + 1) if page < pages else None)


def _hours_label(key: str) -> str:
    bucket = next(b for b in LEARN_HOME.hours_buckets if b[0] == key)
    if bucket[2] is None:
        return _("%(h)g 学时以上", h=bucket[1])
    if not bucket[1]:
        return _("%(h)g 学时以内", h=bucket[2])
    return _("%(a)g–%(b)g 学时", a=bucket[1], b=bucket[2])


@bp.get("/")
@login_required
def catalog():
    """The catalog: every course published to me, filtered by content category, series, innovative theory,
    hours and kind (required, elective, new), with a search box; my progress on each; electives to add."""
    return _listing("courses/catalog.html", mine=False)


@bp.get("/mine")
@login_required
def mine():
    """My courses: the electives I added from the catalog (those still published to me), with my progress."""
    return _listing("courses/catalog_mine.html", mine=True)


def _back() -> str:
    """Where the add/remove form came from (a path of this site only), else the catalog."""
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("learn.catalog")


@bp.post("/mine/<int:course_id>")
@login_required
def change_mine(course_id: int):
    """Add a course to my courses (``action=add``) or take it off (``action=remove``)."""
    action = request.form.get("action")
    if action == "remove":
        my_courses.remove(current_user, course_id)
        flash(_("已从“我的课程”移除。"), "success")
    elif action == "add":
        try:
            added = my_courses.add(current_user, course_id)
        except NotFound:
            abort(404)
        flash(_("已加入“我的课程”。") if added else _("这门课程已在“我的课程”中。"), "success")
    else:
        flash(_("无效的操作。"), "error")
    return redirect(_back())
