"""Community pages: rating a course, bookmarks (收藏), notes at a lesson moment or a reading paragraph, my
notes and bookmarks, questions under a lesson, and the moderation queue. The panels on the course, lesson and
reading pages are built here (``*_panel``) and passed to those pages by their views."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from elearn.community import bookmarks, ratings
from elearn.courses.catalog import can_view_course
from elearn.courses.models import Course
from elearn.errors import ServiceError
from elearn.extensions import db
from elearn.http.forms import attempt

bp = Blueprint("community", __name__)

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = []


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _course_or_404(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None or not can_view_course(current_user, course):
        abort(404)
    return course


@bp.post("/community/courses/<int:course_id>/rating")
@login_required
def rate(course_id: int) -> Response:
    """Rate a course I have finished (1–5 stars and a comment); re-rating replaces my rating."""
    course = _course_or_404(course_id)
    attempt(lambda: ratings.rate_course(current_user, course, _int(request.form.get("stars")),
                                        request.form.get("comment", "")),
            _("已保存您的评分。"))
    return redirect(url_for("learn.course", course_id=course.id) + "#rating")


@bp.post("/community/bookmarks/<kind>/<int:target_id>")
@login_required
def toggle_bookmark(kind: str, target_id: int) -> Response:
    """收藏 / 取消收藏 a course, a lesson or a reading I may open; back to where I was."""
    try:
        target = bookmarks.target_visible(current_user, kind, target_id)
    except ServiceError:
        abort(404)
    now_on = attempt(lambda: bookmarks.toggle(current_user, kind, target.id))
    if now_on is not None:
        flash(_("已收藏。") if now_on else _("已取消收藏。"), "success")
    return redirect(_back(kind, target.id))


def _back(kind: str, target_id: int) -> str:
    back = request.form.get("next", "")
    if back.startswith("/") and not back.startswith("//") and "\\" not in back:
        return back
    if kind == "course":
        return url_for("learn.course", course_id=target_id)
    if kind == "lesson":
        return url_for("learn.lesson", lesson_id=target_id)
    return url_for("readings.view", reading_id=target_id)


@bp.get("/me/bookmarks")
@login_required
def my_bookmarks() -> str:
    """My bookmarks: courses, lessons and readings I may still open, newest first."""
    return render_template("community/bookmarks.html", rows=bookmarks.my_bookmarks(current_user),
                           kind_labels=bookmarks.KIND_LABELS)
