"""Quizzes in the JSON API (``/api/v1``): a quiz's rules and my attempts, drawing an attempt, answering it and
its result — through the quiz service the quiz pages use (:mod:`elearn.quiz.services`), so the attempt limit,
the time limit, grading, crediting and when answers are shown are the same whichever way a member takes it
(an attempt drawn here may be answered on the page and the other way round)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from flask import Response, jsonify
from flask_babel import gettext as _
from flask_login import current_user

from elearn.courses.models import Course
from elearn.errors import ServiceError
from elearn.extensions import existing
from elearn.http.api import api_blueprint, operation
from elearn.quiz import services as quizzes
from elearn.quiz.models import QuizAttempt
from elearn.quiz.schemas import (
    QuizAnswerSheet,
    QuizAttemptBrief,
    QuizAttemptState,
    QuizDrawnQuestion,
    QuizOverview,
    QuizReviewOption,
    QuizReviewQuestion,
)

bp = api_blueprint("quiz_api", __name__)

_QUIZ_ERRORS = {404: "no such quiz the caller may take"}
_ATTEMPT_ERRORS = {404: "no such attempt of the caller"}


AttemptState = Literal["open", "submitted", "expired"]


def _utc(at: datetime) -> datetime:
    """Stored naive in UTC; answered with its zone."""
    return at.replace(tzinfo=UTC)


def _utc_or_none(at: datetime | None) -> datetime | None:
    return _utc(at) if at is not None else None


def _state(attempt: QuizAttempt) -> AttemptState:
    if attempt.submitted_at is None:
        return "open"
    return "expired" if attempt.expired else "submitted"


def _left(attempt: QuizAttempt) -> int:
    return max(0, attempt.quiz.max_attempts - quizzes.attempt_count(current_user, attempt.quiz))


def _attempt_state(attempt: QuizAttempt) -> QuizAttemptState:
    is_open = attempt.submitted_at is None
    shown = quizzes.answers_shown(attempt)
    return QuizAttemptState(
        id=attempt.id, quiz_id=attempt.quiz_id, number=attempt.number, state=_state(attempt),
        started_at=_utc(attempt.started_at), deadline=_utc_or_none(attempt.deadline),
        remaining_seconds=quizzes.remaining_seconds(attempt) if is_open else None,
        questions=[QuizDrawnQuestion(id=q.id, number=q.number, kind=q.kind, text=q.text, options=q.options)
                   for q in quizzes.attempt_questions(attempt)] if is_open else None,
        score_percent=attempt.score_percent, passed=attempt.passed, answers_shown=shown,
        review=None if is_open else [
            QuizReviewQuestion(number=r.number, kind=r.kind, text=r.text, right=r.right, explanation=r.explanation,
                               options=[QuizReviewOption(text=o.text, chosen=o.chosen, correct=o.correct)
                                        for o in r.options])
            for r in quizzes.attempt_result(attempt)],
        attempts_left=_left(attempt))


@operation(bp, "/quizzes/<int:quiz_id>", operation_id="getQuiz", response=QuizOverview, errors=_QUIZ_ERRORS,
           summary="A quiz's rules and my attempts at it")
def get_quiz(quiz_id: int) -> QuizOverview:
    """What the quiz overview page shows: rules, attempts left, my past attempts."""
    quiz = quizzes.get_quiz_for(current_user, quiz_id)
    attempts = quizzes.attempts_of(current_user, quiz)
    course = existing(Course, quiz.course_id)
    return QuizOverview(
        id=quiz.id, course_id=course.id, course_title=course.title, title=quiz.title,
        question_count=quiz.question_count, pass_percent=quiz.pass_percent, max_attempts=quiz.max_attempts,
        time_limit_seconds=quiz.time_limit_s, hours=quiz.hours,
        attempts_left=max(0, quiz.max_attempts - len(attempts)), passed=any(a.passed for a in attempts),
        attempts=[QuizAttemptBrief(id=a.id, number=a.number, state=_state(a),
                                   started_at=_utc(a.started_at),
                                   submitted_at=_utc_or_none(a.submitted_at), score_percent=a.score_percent,
                                   passed=a.passed) for a in attempts])


@operation(bp, "/quizzes/<int:quiz_id>/attempts", method="POST", operation_id="drawQuizAttempt",
           response=QuizAttemptState,
           errors={**_QUIZ_ERRORS, 409: "already passed, no attempts left, not published, or bank too small"},
           summary="Draw an attempt (201), or get back my open one (200), as the quiz page's start button does")
def draw_attempt(quiz_id: int) -> Response:
    """Start an attempt: N questions drawn at random, options shuffled; the open attempt if there is one."""
    quiz = quizzes.get_quiz_for(current_user, quiz_id)
    before = quizzes.attempt_count(current_user, quiz)
    attempt = quizzes.start_attempt(current_user, quiz)
    response = jsonify(_attempt_state(attempt).model_dump(mode="json"))
    response.status_code = 201 if attempt.number > before else 200
    return response


@operation(bp, "/attempts/<int:attempt_id>", operation_id="getQuizAttempt", response=QuizAttemptState,
           errors=_ATTEMPT_ERRORS, summary="One of my attempts: its questions while open, its result once closed")
def get_attempt(attempt_id: int) -> QuizAttemptState:
    """An attempt as its page shows it (the questions without answers, or the graded review)."""
    return _attempt_state(quizzes.get_attempt_for(current_user, attempt_id))


@operation(bp, "/attempts/<int:attempt_id>/answers", method="POST", operation_id="answerQuizAttempt",
           body=QuizAnswerSheet, response=QuizAttemptState, invalid_code="bad_answer",
           errors={**_ATTEMPT_ERRORS, 409: "the attempt is already submitted"},
           summary="Submit my answers to an open attempt: graded once on the server, a pass credited")
def answer_attempt(attempt_id: int, body: QuizAnswerSheet) -> QuizAttemptState:
    """Grade the answer sheet as the page's submit does. A sheet naming a question the attempt did not draw,
    or one question twice, is refused (400) and changes nothing."""
    attempt = quizzes.get_attempt_for(current_user, attempt_id)
    drawn = {d["q"] for d in attempt.drawn}
    chosen: dict[int, list[int]] = {}
    for answer in body.answers:
        if answer.question not in drawn or answer.question in chosen:
            raise ServiceError(_("答案无效。"), "bad_answer")
        chosen[answer.question] = list(answer.choices)
    return _attempt_state(quizzes.submit(current_user, attempt, chosen))
