"""Progress heartbeats for lessons and readings, and resume positions (``/api/v1``)."""
from __future__ import annotations

from flask_login import current_user

from elearn.extensions import limiter
from elearn.http.api import api_blueprint, operation, per_user
from elearn.policy import HEARTBEAT_LIMIT_PER_USER
from elearn.study import heartbeat
from elearn.study import services as study
from elearn.study.schemas import (
    AttentionAnswer,
    AttentionAnswered,
    LessonProgress,
    LessonReport,
    ReadingProgress,
    ReadingReport,
)

bp = api_blueprint("study_api", __name__)
# Bearer-token lesson heartbeats are answered before the generic API hooks when they can be (see heartbeat).
# Registered by init_app, first among the app's hooks: it answers only requests the input guard, the CSRF check
# and the cookie-session gates have nothing to say about (heartbeat's docstring).
bp.record_once(lambda state: heartbeat.init_app(state.app))

_LESSON_ERRORS = {404: "no such lesson within reach"}
_READING_ERRORS = {404: "no such reading within reach"}


@operation(bp, "/lessons/<int:lesson_id>/progress", method="POST", operation_id="reportLessonProgress",
           summary="Report playback progress (heartbeat)", body=LessonReport, response=LessonProgress,
           invalid_code="bad_report", on_invalid=lambda _exc: study.count_malformed_report(current_user),
           errors={**_LESSON_ERRORS, 409: "no playable media, or session of another lesson",
                   503: "too many concurrent updates, retry"})
@limiter.shared_limit(HEARTBEAT_LIMIT_PER_USER, scope=heartbeat.LIMIT_SCOPE, key_func=per_user)
def report_lesson(lesson_id: int, body: LessonReport) -> LessonProgress:
    """Accept a playback heartbeat: intervals played since the last report, position, rate, visibility."""
    lesson = study.get_lesson_for(current_user, lesson_id)
    result = study.report_lesson_progress(current_user, lesson, body)
    return LessonProgress.model_validate(result.as_dict())


@operation(bp, "/lessons/<int:lesson_id>/attention", method="POST", operation_id="answerAttentionCheck",
           summary="Answer an attention check (防挂机)", body=AttentionAnswer, response=AttentionAnswered,
           errors={**_LESSON_ERRORS, 409: "no such open prompt"})
@limiter.limit(HEARTBEAT_LIMIT_PER_USER, key_func=per_user)
def answer_attention(lesson_id: int, body: AttentionAnswer) -> AttentionAnswered:
    """The member is still there: crediting of the playback session resumes."""
    lesson = study.get_lesson_for(current_user, lesson_id)
    study.answer_attention(current_user, lesson, body.token)
    return AttentionAnswered(answered=True)


@operation(bp, "/lessons/<int:lesson_id>/progress", operation_id="getLessonProgress",
           summary="Resume position and coverage", response=LessonProgress, errors=_LESSON_ERRORS)
def lesson_progress(lesson_id: int) -> LessonProgress:
    """Resume position, watched seconds, coverage and completion of a lesson."""
    lesson = study.get_lesson_for(current_user, lesson_id)
    return LessonProgress.model_validate(study.lesson_progress(current_user, lesson).as_dict())


@operation(bp, "/readings/<int:reading_id>/progress", method="POST", operation_id="reportReadingProgress",
           summary="Report active reading time (heartbeat)", body=ReadingReport, response=ReadingProgress,
           invalid_code="bad_report", on_invalid=lambda _exc: study.count_malformed_report(current_user),
           errors={**_READING_ERRORS, 409: "session of another reading",
                                              503: "too many concurrent updates, retry"})
@limiter.limit(HEARTBEAT_LIMIT_PER_USER, key_func=per_user)
def report_reading(reading_id: int, body: ReadingReport) -> ReadingProgress:
    """Accept a reading heartbeat: active (visible, recently scrolled) seconds since the last report."""
    reading, course = study.reading_course_for(current_user, reading_id)
    result = study.report_reading_progress(current_user, reading, course, body)
    return ReadingProgress.model_validate(result.as_dict())


@operation(bp, "/readings/<int:reading_id>/progress", operation_id="getReadingProgress",
           summary="Reading progress", response=ReadingProgress, errors=_READING_ERRORS)
def reading_progress(reading_id: int) -> ReadingProgress:
    """Active seconds so far, the time required and the scroll position of a reading."""
    reading, _course = study.reading_course_for(current_user, reading_id)
    return ReadingProgress.model_validate(study.reading_progress(current_user, reading).as_dict())
