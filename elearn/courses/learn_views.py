"""Learning pages: a course's lessons with the member's progress, and the lesson player (the HLS files it
plays are served by :mod:`elearn.media.views`)."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    render_template,
    request,
)
from flask_login import current_user, login_required

from elearn.community import panels as community
from elearn.courses import services as courses
from elearn.courses.catalog import can_view_course, can_view_lesson
from elearn.courses.models import Course, Lesson
from elearn.extensions import db
from elearn.media import services as media
from elearn.policy import POLICY
from elearn.quiz import services as quizzes
from elearn.readings import services as readings
from elearn.study import services as study

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
