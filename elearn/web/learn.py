"""Learning pages: a course's lessons, the lesson player, and the access-checked HLS files it plays.

Media serving
-------------
``/learn/media/<asset id>/<file>`` serves the HLS output of a ready asset only to users who may view its
lesson (audience, the owning lecturer, site admins); everyone else gets 404, so asset ids reveal nothing.
Playlists are rewritten so that every URI carries the player's playback-session id (``?ps=``): segment
requests then say which playback they belong to, and each segment delivered is reported to the study-hours
service. Segments honour HTTP Range and may be cached privately; playlists are never cached.

Production (``ELEARN_X_ACCEL=1``): the app still checks access and records the delivery, then answers with
an empty body and ``X-Accel-Redirect: /protected-media/<storage key>`` so that nginx sends the file::

    location /protected-media/ {
        internal;                         # reachable only through X-Accel-Redirect
        alias /srv/elearn/instance/data/; # ELEARN_DATA_DIR, with the trailing slash
        add_header Cache-Control "private, max-age=86400";
        add_header X-Content-Type-Options nosniff;
    }

nginx handles Range and sendfile itself; the Content-Type set by the app is kept. Playlists are small and
rewritten per playback, so the app always sends them itself.
"""
from __future__ import annotations

import math
import uuid

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from elearn.extensions import db
from elearn.models import Course, Lesson
from elearn.policy import MEDIA_SEGMENT_MAX_AGE_S, PLAYBACK_RATES
from elearn.services import NotFound, courses, media, readings
from elearn.services import quiz as quizzes
from elearn.services.catalog import can_view_course, can_view_lesson

bp = Blueprint("learn", __name__, url_prefix="/learn")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = []


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


def _study(name: str):
    """A function of the study-hours service, or None while that service does not provide it."""
    return media._study_hook(name)


@bp.get("/courses/<int:course_id>")
@login_required
def course(course_id: int):
    """A course: description, lessons with duration and the member's progress, readings."""
    course = _course_or_404(course_id)
    course_progress = _study("course_progress")
    progress = course_progress(current_user, course) if course_progress is not None else {}
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
    return render_template("learn/course.html", course=course, lessons=lessons, readings=reading_rows,
                           quizzes=quiz_rows,
                           description_html=courses.render_markdown(course.description))


def _new_playback_session() -> str:
    """A fresh playback-session id: the player sends it with every media request and progress report."""
    return str(uuid.uuid4())


def _resume_position(lesson: Lesson) -> float:
    progress = _study("lesson_progress")
    if progress is not None:
        return float(progress(current_user, lesson).position or 0.0)
    return 0.0


def _start_at(raw: str | None, duration: float | None) -> float | None:
    """The ``?t=<seconds>`` of a search hit, clipped to the media; None when absent or not a number."""
    try:
        at = float(raw) if raw is not None else None
    except ValueError:
        return None
    if at is None or not math.isfinite(at) or at < 0:
        return None
    return min(at, duration) if duration else at


@bp.get("/lessons/<int:lesson_id>")
@login_required
def lesson(lesson_id: int):
    """The player: adaptive HLS, quality and speed choice, captions, seek previews, resume."""
    lesson = _lesson_or_404(lesson_id)
    asset = lesson.asset if lesson.asset is not None and lesson.asset.status == "ready" else None
    resume = _resume_position(lesson) if asset is not None else 0.0
    start_at = _start_at(request.args.get("t"), asset.duration_s if asset is not None else None)
    ps = _new_playback_session() if asset is not None else None
    max_rate = current_app.config["ELEARN_MAX_PLAYBACK_RATE"]
    player = None
    if asset is not None:
        def media_url(name):
            return url_for("learn.media_file", asset_id=asset.id, filename=name, ps=ps)
        player = {
            "src": media_url(media.MASTER_PLAYLIST),
            "poster": media_url("poster.jpg") if asset.has_video else "",
            "storyboard": media_url("storyboard.vtt") if asset.has_video else "",
            "ps": ps, "resume": resume, "start_at": start_at, "duration": asset.duration_s or 0,
            "rates": [r for r in PLAYBACK_RATES if r <= max_rate],
            "progress_url": f"/api/v1/lessons/{lesson.id}/progress",
        }
    siblings = lesson.course.lessons
    index = siblings.index(lesson)
    return render_template("learn/lesson.html", lesson=lesson, course=lesson.course, player=player,
                           previous=siblings[index - 1] if index > 0 else None,
                           next=siblings[index + 1] if index + 1 < len(siblings) else None,
                           description_html=courses.render_markdown(lesson.description))


@bp.route("/media/<int:asset_id>/<path:filename>", methods=["GET", "HEAD"])
def media_file(asset_id: int, filename: str):
    """One HLS file of a ready asset, for users who may view its lesson; 404 for anyone else."""
    if not current_user.is_authenticated:
        abort(401)
    try:
        file = media.media_file(current_user, asset_id, filename)
    except NotFound:
        abort(404)
    ps = media.valid_playback_session(request.args.get("ps"))
    # The media sweep may remove a replaced asset's files between the check above and the read below.
    if file.is_playlist:
        try:
            text = file.path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            abort(404)
        response = Response(media.rewrite_playlist(text, ps), mimetype=file.mimetype)
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    if file.is_segment and request.method == "GET":
        media.record_delivery(current_user, file, ps)
    if current_app.config["ELEARN_X_ACCEL"]:
        response = Response(b"", mimetype=file.mimetype)
        response.headers["X-Accel-Redirect"] = f"/protected-media/{file.key}"
    else:
        try:
            response = send_file(file.path, mimetype=file.mimetype, conditional=True, etag=True,
                                 max_age=MEDIA_SEGMENT_MAX_AGE_S)
        except (FileNotFoundError, NotADirectoryError):
            abort(404)
    response.headers["Cache-Control"] = f"private, max-age={MEDIA_SEGMENT_MAX_AGE_S}"
    return response
