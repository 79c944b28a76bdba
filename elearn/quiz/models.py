"""Quizzes: a question bank per course, quizzes drawing from it, and members' attempts."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Base


class Question(Base):
    """One question of a course's bank. ``correct`` holds option indexes and never leaves the server
    before an attempt is submitted."""

    __tablename__ = "quiz_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # policy.QUESTION_KINDS
    text: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON)
    correct: Mapped[list[int]] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)  # retired questions stay for past attempts
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Quiz(Base):
    __tablename__ = "quiz"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    question_count: Mapped[int] = mapped_column(default=10)
    pass_percent: Mapped[int] = mapped_column(default=60)
    max_attempts: Mapped[int] = mapped_column(default=3)
    time_limit_s: Mapped[int | None]
    hours: Mapped[float] = mapped_column(default=0.5)
    published: Mapped[bool] = mapped_column(default=False)
    # When correct answers are shown: policy.QUIZ_ANSWERS_SHOWN ("final", "each", "never").
    show_answers: Mapped[str] = mapped_column(String(10), default="final", server_default="final")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class QuizAttempt(Base):
    """One attempt. ``drawn`` is the drawn order: ``[{"q": question_id, "order": [option index, …]}]`` — the
    member sees options in ``order``; answers are stored as original option indexes."""

    __tablename__ = "quiz_attempt"
    __table_args__ = (UniqueConstraint("quiz_id", "user_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    number: Mapped[int]
    drawn: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    answers: Mapped[dict[str, list[int]] | None] = mapped_column(JSON)
    started_at: Mapped[datetime]
    deadline: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    score_percent: Mapped[float | None]
    passed: Mapped[bool | None]
    expired: Mapped[bool] = mapped_column(default=False)

    quiz: Mapped[Quiz] = relationship()
