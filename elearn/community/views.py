"""Community pages: rating a course, bookmarks (收藏), notes at a lesson moment or a reading paragraph, my
notes and bookmarks, questions under a lesson, and the moderation queue. The panels on the course, lesson and
reading pages are built here (``*_panel``) and passed to those pages by their views."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from elearn import clock, spreadsheets
from elearn.access import Role
from elearn.community import bookmarks, discussion, notes, ratings
from elearn.community.models import DiscussionPost
from elearn.courses.models import Course, Lesson
from elearn.errors import ServiceError
from elearn.extensions import db, limiter
from elearn.http.api import per_user
from elearn.http.downloads import private_download
from elearn.http.forms import attempt
from elearn.policy import COMMUNITY
from elearn.readings.models import Reading

bp = Blueprint("community", __name__)

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = [("community.my_notes", _l("我的笔记"), None),
             ("community.moderation", _l("讨论审核"), (Role.LECTURER, Role.ORG_ADMIN, Role.SITE_ADMIN))]


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


@bp.post("/community/courses/<int:course_id>/rating")
@login_required
def rate(course_id: int) -> Response:
    """Rate a course I have finished (1–5 stars and a comment); re-rating replaces my rating."""
    course = _visible_or_404("course", course_id)
    assert isinstance(course, Course)
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
    back = _local(request.form.get("next"))
    if back:
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


# --- notes ---------------------------------------------------------------------------------------------------

def _position(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value


@bp.post("/community/lessons/<int:lesson_id>/notes")
@login_required
def add_lesson_note(lesson_id: int) -> Response:
    """A note at the player's current time (the form's ``position_s``, filled by the page's script)."""
    _visible_or_404("lesson", lesson_id)
    attempt(lambda: notes.add_lesson_note(current_user, lesson_id, _position(request.form.get("position_s")),
                                          request.form.get("text", "")), _("已保存笔记。"))
    return redirect(url_for("learn.lesson", lesson_id=lesson_id) + "#notes")


@bp.post("/community/readings/<int:reading_id>/notes")
@login_required
def add_reading_note(reading_id: int) -> Response:
    """A note on a paragraph of a reading; back at that paragraph."""
    _visible_or_404("reading", reading_id)
    paragraph = request.form.get("paragraph", "")
    note = attempt(lambda: notes.add_reading_note(current_user, reading_id, paragraph, request.form.get("text", "")),
                   _("已保存笔记。"))
    anchor = f"#{note.paragraph}" if note is not None else "#reading-notes"
    return redirect(url_for("readings.view", reading_id=reading_id) + anchor)


@bp.post("/community/notes/<int:note_id>/delete")
@login_required
def delete_note(note_id: int) -> Response:
    """Delete one of my notes; back to where it was listed."""
    try:
        notes.own_note(current_user, note_id)
    except ServiceError:
        abort(404)
    attempt(lambda: notes.delete_note(current_user, note_id), _("已删除笔记。"))
    return redirect(_local(request.form.get("next")) or url_for("community.my_notes"))


@bp.get("/me/notes")
@login_required
def my_notes() -> str:
    """All my notes, grouped by course and reading, each linking to its moment or paragraph."""
    return render_template("community/notes.html", groups=notes.grouped(notes.my_notes(current_user)))


@bp.get("/me/notes.csv")
@login_required
def my_notes_csv() -> Response:
    """My notes alone as CSV (UTF-8 with BOM, no cell a formula); the transcript carries them too (a sheet of
    the XLSX, a second section of the CSV)."""
    name = f"notes-{current_user.username}-{clock.site_today().isoformat()}.csv"
    return private_download(spreadsheets.csv_bytes(notes.export_rows(current_user)), "text/csv", name)


# --- questions -----------------------------------------------------------------------------------------------

def _visible_or_404(kind: str, target_id: int) -> Course | Lesson | Reading:
    try:
        return bookmarks.target_visible(current_user, kind, target_id)
    except ServiceError:
        abort(404)


def _post_or_404(post_id: int) -> DiscussionPost:
    try:
        return discussion.visible_post(current_user, post_id)
    except ServiceError:
        abort(404)


def _to_thread(post: DiscussionPost) -> Response:
    back = _local(request.form.get("next"))
    return redirect(back or url_for("learn.lesson", lesson_id=post.lesson_id) + f"#post-{post.parent_id or post.id}")


@bp.post("/community/lessons/<int:lesson_id>/questions")
@login_required
@limiter.limit(COMMUNITY.post_limit_per_user, key_func=per_user)
def ask(lesson_id: int) -> Response:
    """Ask a question under a lesson I may see."""
    _visible_or_404("lesson", lesson_id)
    post = attempt(lambda: discussion.ask(current_user, lesson_id, request.form.get("body", "")),
                   _("已提交问题，讲师回答后会通知您。"))
    anchor = f"#post-{post.id}" if post is not None else "#questions"
    return redirect(url_for("learn.lesson", lesson_id=lesson_id) + anchor)


@bp.post("/community/posts/<int:post_id>/responses")
@login_required
@limiter.limit(COMMUNITY.post_limit_per_user, key_func=per_user)
def respond(post_id: int) -> Response:
    """Answer (the course's lecturer) or reply to a question."""
    question = _post_or_404(post_id)
    attempt(lambda: discussion.respond(current_user, post_id, request.form.get("body", "")), _("已回复。"))
    return _to_thread(question)


@bp.post("/community/posts/<int:post_id>/report")
@login_required
@limiter.limit(COMMUNITY.report_limit_per_user, key_func=per_user)
def report(post_id: int) -> Response:
    """Report a post to its moderators."""
    post = _post_or_404(post_id)
    attempt(lambda: discussion.report(current_user, post_id, request.form.get("reason", "")),
            _("已举报，管理员会尽快处理。"))
    return _to_thread(post)


@bp.post("/community/posts/<int:post_id>/hide")
@login_required
def hide(post_id: int) -> Response:
    """Hide (``hidden=1``) or unhide (``hidden=0``) a post: the course's lecturer and admins."""
    post = _post_or_404(post_id)
    hidden = request.form.get("hidden", "1") != "0"
    attempt(lambda: discussion.set_hidden(current_user, post_id, hidden),
            _("已隐藏。") if hidden else _("已取消隐藏。"))
    return _to_thread(post)


@bp.post("/community/posts/<int:post_id>/dismiss")
@login_required
def dismiss(post_id: int) -> Response:
    """Keep a reported post as it is and settle its reports."""
    post = _post_or_404(post_id)
    attempt(lambda: discussion.dismiss_reports(current_user, post_id), _("已驳回举报。"))
    return _to_thread(post)


@bp.get("/community/moderation")
@login_required
def moderation() -> str:
    """Reported posts I moderate: lecturers, those on their courses; admins, those by members of their
    organisations; site admins, all."""
    if current_user.role not in (Role.LECTURER, Role.ORG_ADMIN, Role.SITE_ADMIN):
        abort(403)
    return render_template("community/moderation.html", rows=discussion.moderation_queue(current_user))


def _local(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.get("/community/courses/<int:course_id>/questions")
@login_required
def course_questions(course_id: int) -> str:
    """The lecturer's questions waiting for an answer on one of their courses."""
    course = db.session.get(Course, course_id)
    if course is None:
        abort(404)
    try:
        rows = discussion.course_questions(current_user, course)
    except ServiceError:
        abort(404)
    return render_template("community/course_questions.html", course=course, rows=rows,
                           max_post=COMMUNITY.post_max_chars)
