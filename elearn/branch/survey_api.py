"""The needs survey API (``/api/v1/surveys``) for the app and mini-program: my open surveys, a survey's
questions, and my one response, checked by the same service as the page (elearn.branch.surveys)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user

from elearn.branch import surveys
from elearn.branch.survey_models import Survey
from elearn.branch.survey_schemas import (
    QuestionOut,
    ResponseIn,
    ResponseOut,
    SurveyList,
    SurveyListItem,
    SurveyOut,
)
from elearn.errors import ServiceError
from elearn.http.api import api_blueprint, operation

bp = api_blueprint("survey_api", __name__)


def _item(survey: Survey, answered: bool) -> dict:
    return {"id": survey.id, "title": survey.title, "organisation": survey.organisation.name,
            "opens_on": survey.opens_on, "closes_on": survey.closes_on, "anonymous": survey.anonymous,
            "answered": answered}


@operation(bp, "/surveys", operation_id="listMySurveys", response=SurveyList,
           summary="The open needs surveys of the caller's organisations, with whether they have answered")
def list_surveys() -> SurveyList:
    return SurveyList(items=[SurveyListItem(**_item(r["survey"], r["answered"]))
                             for r in surveys.surveys_for_member(current_user)])


@operation(bp, "/surveys/<int:survey_id>", operation_id="getSurvey", response=SurveyOut,
           errors={404: "no such survey for the caller"}, summary="One survey's questions")
def get_survey(survey_id: int) -> SurveyOut:
    survey = surveys.for_member(current_user, survey_id)
    return SurveyOut(**_item(survey, surveys.has_answered(current_user, survey)), intro=survey.intro,
                     open=surveys.is_open(survey),
                     questions=[QuestionOut(id=q.id, kind=q.kind, text=q.text, options=list(q.options),
                                            required=q.required) for q in survey.questions])


@operation(bp, "/surveys/<int:survey_id>/response", method="POST", operation_id="answerSurvey", body=ResponseIn,
           response=ResponseOut,
           errors={404: "no such survey for the caller", 409: "already answered, or the survey is closed"},
           summary="Answer a survey (once); every answer is checked and nothing is kept on any refusal")
def answer_survey(survey_id: int, body: ResponseIn) -> ResponseOut:
    survey = surveys.for_member(current_user, survey_id)
    answers: dict[int, surveys.Answer] = {}
    kinds = {q.id: q.kind for q in survey.questions}
    for a in body.answers:
        if a.question_id in answers:
            raise ServiceError(_("同一题目只能回答一次。"), "duplicate_answer")
        answers[a.question_id] = a.text if kinds.get(a.question_id) == "text" else list(a.choices)
    response = surveys.submit(current_user, survey, answers)
    return ResponseOut(survey_id=survey.id, submitted_at=response.submitted_at)
