"""Payloads of the needs survey API (``/api/v1/surveys``): a member's open surveys, one survey's questions, and
a response. Sizes are bounded here as well as checked by the service (elearn.branch.surveys)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from elearn.extensions import ID_MAX
from elearn.http.schemas import Payload
from elearn.policy import SURVEY


class SurveyListItem(BaseModel):
    id: int
    title: str
    organisation: str
    opens_on: date | None
    closes_on: date | None
    anonymous: bool
    answered: bool


class SurveyList(BaseModel):
    items: list[SurveyListItem]


class QuestionOut(BaseModel):
    id: int
    kind: str = Field(description="single, multiple or text")
    text: str
    options: list[str] = Field(description="the options of a choice question; an answer gives their indices")
    required: bool


class SurveyOut(SurveyListItem):
    intro: str
    open: bool
    questions: list[QuestionOut]


class AnswerIn(Payload):
    question_id: Annotated[int, Field(ge=1, le=ID_MAX)]
    choices: list[Annotated[int, Field(ge=0, le=ID_MAX)]] = Field(
        default_factory=list, max_length=SURVEY.max_options, description="option indices (choice questions)")
    text: str = Field("", max_length=SURVEY.text_answer_max_chars, description="the answer to a text question")


class ResponseIn(Payload):
    answers: list[AnswerIn] = Field(max_length=SURVEY.max_questions)


class ResponseOut(BaseModel):
    survey_id: int
    submitted_at: datetime
