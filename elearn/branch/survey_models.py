"""Training-needs surveys (教育培训需求调研): an organisation asks the members of its subtree what training they
need; each member answers once (one response per survey and member, by a database constraint)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Base
from elearn.orgs.models import Organisation, User

SURVEY_STATUSES = ("draft", "open", "closed")
QUESTION_KINDS = ("single", "multiple", "text")


class Survey(Base):
    __tablename__ = "survey"
    __table_args__ = (Index("ix_survey_org_status", "organisation_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))  # the publisher; audience = subtree
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")  # SURVEY_STATUSES
    opens_on: Mapped[date | None]  # set on publishing (the day it opened)
    closes_on: Mapped[date | None]  # planned last day to answer; set to the day it closed when closed earlier
    anonymous: Mapped[bool] = mapped_column(default=False)  # results show no names (responses still per member)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()
    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey", order_by="SurveyQuestion.position", cascade="all, delete-orphan")


class SurveyQuestion(Base):
    __tablename__ = "survey_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # QUESTION_KINDS
    text: Mapped[str] = mapped_column(String(500))
    options: Mapped[list] = mapped_column(JSON, default=list)  # option texts of a choice question, in order
    required: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    survey: Mapped[Survey] = relationship(back_populates="questions")


class SurveyResponse(Base):
    __tablename__ = "survey_response"
    __table_args__ = (UniqueConstraint("survey_id", "user_id", name="uq_survey_response_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    submitted_at: Mapped[datetime]

    user: Mapped[User] = relationship()
    answers: Mapped[list[SurveyAnswer]] = relationship(back_populates="response", cascade="all, delete-orphan")


class SurveyAnswer(Base):
    """One question's answer: the chosen option indices (single: one) or the text."""

    __tablename__ = "survey_answer"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_response.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_question.id"), index=True)
    choices: Mapped[list] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text, default="")

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")
