"""Payloads of the quiz API (``elearn.quiz.api``): a quiz's rules and my attempts, a drawn attempt's questions
(never their answers), the answer sheet, and the graded result."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from elearn.extensions import ID_MAX
from elearn.http.schemas import Payload
from elearn.quiz.services import MAX_OPTIONS

MAX_QUESTIONS = 200  # a quiz draws at most this many (quiz.services.save_quiz)


class QuizAttemptBrief(BaseModel):
    id: int
    number: int
    state: Literal["open", "submitted", "expired"]
    started_at: datetime
    submitted_at: datetime | None
    score_percent: float | None
    passed: bool | None


class QuizOverview(BaseModel):
    id: int
    course_id: int
    course_title: str
    title: str
    question_count: int
    pass_percent: int
    max_attempts: int
    time_limit_seconds: int | None
    hours: float = Field(description="学时 credited once on a pass")
    attempts_left: int
    passed: bool
    attempts: list[QuizAttemptBrief]


class QuizDrawnQuestion(BaseModel):
    """A question as drawn for me: options in the drawn order; answer with positions in this list."""

    id: int
    number: int
    kind: str = Field(description="policy.QUESTION_KINDS: single, multiple, truefalse")
    text: str
    options: list[str]


class QuizReviewOption(BaseModel):
    text: str
    chosen: bool
    correct: bool | None = Field(description="null while the quiz keeps its answers to itself")


class QuizReviewQuestion(BaseModel):
    number: int
    kind: str
    text: str
    options: list[QuizReviewOption]
    right: bool | None = Field(description="null while the quiz keeps its answers to itself")
    explanation: str


class QuizAttemptState(BaseModel):
    """An attempt: while open its questions (no answers) and the time left; once closed its score and review."""

    id: int
    quiz_id: int
    number: int
    state: Literal["open", "submitted", "expired"]
    started_at: datetime
    deadline: datetime | None
    remaining_seconds: int | None = Field(description="time left while open and timed")
    questions: list[QuizDrawnQuestion] | None = Field(description="while open")
    score_percent: float | None
    passed: bool | None
    answers_shown: bool = Field(description="whether the review shows what was right")
    review: list[QuizReviewQuestion] | None = Field(description="once closed")
    attempts_left: int


class QuizAnswer(Payload):
    question: Annotated[int, Field(ge=1, le=ID_MAX, description="a question id of the attempt")]
    choices: Annotated[list[Annotated[int, Field(ge=0, lt=MAX_OPTIONS)]], Field(
        max_length=MAX_OPTIONS, description="positions in the question's drawn options; empty for no answer")]


class QuizAnswerSheet(Payload):
    """Answers to an open attempt, submitted once and graded on the server. A question left out scores nothing."""

    answers: Annotated[list[QuizAnswer], Field(max_length=MAX_QUESTIONS)]
