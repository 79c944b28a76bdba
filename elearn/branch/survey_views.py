"""Needs survey pages: members answer their open surveys (``/surveys/``); org admins build, publish and close
surveys of their subtree and read the results (``/surveys/manage``). The rules are in elearn.branch.surveys."""
from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from elearn import clock
from elearn.access import ADMINS, admin_required
from elearn.analytics import charts
from elearn.branch import surveys
from elearn.branch.survey_models import Survey
from elearn.errors import ServiceError
from elearn.extensions import db
from elearn.http.errors import status_for
from elearn.http.forms import Form, attempt, flash_and_redirect, submit
from elearn.orgs import services as orgs
from elearn.policy import SURVEY

bp = Blueprint("surveys", __name__, url_prefix="/surveys")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV = [("surveys.mine", _l("需求调研"), None)]

STATUS_LABELS = {"draft": _l("草稿"), "open": _l("进行中"), "closed": _l("已结束")}
KIND_LABELS = {"single": _l("单选题"), "multiple": _l("多选题"), "text": _l("填空题")}


class SurveyForm(Form):
    organisation_id = SelectField(_l("发布组织（面向其全部下级组织的党员）"), coerce=int)
    title = StringField(_l("调研标题"), validators=[DataRequired(_l("请填写调研标题。")), Length(max=200)])
    intro = TextAreaField(_l("说明"), validators=[Optional(), Length(max=4000)])
    closes_on = DateField(_l("截止日期"), validators=[Optional()])
    anonymous = BooleanField(_l("匿名（结果中不显示姓名）"))


class QuestionForm(Form):
    kind = SelectField(_l("题型"))
    text = StringField(_l("题目"), validators=[DataRequired(_l("请填写题目。")),
                                               Length(max=SURVEY.question_max_chars)])
    options = TextAreaField(_l("选项（每行一个；填空题不填）"), validators=[Optional(), Length(max=8000)])
    required = BooleanField(_l("必答"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [(k, str(v)) for k, v in KIND_LABELS.items()]


_AUTO = object()  # no formdata given: the form reads the request's


def _options(raw: str | None) -> list[str]:
    return [line.strip() for line in (raw or "").splitlines() if line.strip()]


# -- members ---------------------------------------------------------------------------------------------------

@bp.route("/")
@login_required
def mine():
    """The open surveys for me, answered or not."""
    return render_template("branch/survey_mine.html", rows=surveys.surveys_for_member(current_user),
                           may_manage=current_user.role in ADMINS)


def _answers_from_form(survey: Survey) -> dict[int, surveys.Answer]:
    """The posted answers: fields ``q<question id>`` (choices as option indices); a field naming a question of
    another survey or a non-number choice is refused by the service's checks like any forged answer."""
    kinds = {q.id: q.kind for q in survey.questions}
    answers: dict[int, surveys.Answer] = {}
    for key in request.form:
        if not (key.startswith("q") and key[1:].isdigit()):
            continue
        qid = int(key[1:])
        if kinds.get(qid) == "text":
            answers[qid] = request.form.get(key, "")
            continue
        values = request.form.getlist(key)
        try:
            answers[qid] = [int(v) for v in values if v != ""]
        except ValueError:
            raise ServiceError(_("提交的选项无效。"), "bad_option") from None
    return answers


@bp.route("/<int:survey_id>", methods=["GET", "POST"])
@login_required
def answer(survey_id: int):
    """Answer a survey once; afterwards (or once it is closed) the page says so."""
    survey = surveys.for_member(current_user, survey_id)
    error, status, given = None, 200, {}
    if request.method == "POST":
        try:
            given = _answers_from_form(survey)
            surveys.submit(current_user, survey, given)
        except ServiceError as exc:
            db.session.rollback()
            error, status = exc.message, status_for(exc)
        else:
            return flash_and_redirect(_("已提交，感谢参与。"), url_for("surveys.answer", survey_id=survey.id))
    return render_template("branch/survey_answer.html", survey=survey, error=error, given=given,
                           answered=surveys.has_answered(current_user, survey), open=surveys.is_open(survey),
                           kinds=KIND_LABELS, max_text=SURVEY.text_answer_max_chars), status


# -- admins ----------------------------------------------------------------------------------------------------

@bp.route("/manage", methods=["GET", "POST"])
@admin_required
def manage():
    """Surveys of the organisations I manage, and a form to start one."""
    form = SurveyForm()
    form.organisation_id.choices = orgs.managed_org_choices(current_user)
    done = submit(form, lambda: surveys.save(
        current_user, None, organisation=orgs.managed_org(current_user, form.organisation_id.data),
        title=form.title.data, intro=form.intro.data or "", anonymous=form.anonymous.data,
        closes_on=form.closes_on.data), error_field=form.title, not_found_status=404,
        done=lambda s: flash_and_redirect(_("已创建调研，请添加题目。"), url_for("surveys.edit", survey_id=s.id)))
    rows = [{"survey": s, "status": surveys.shown_status(s)} for s in surveys.managed_surveys(current_user)]
    return done.response or (render_template("branch/survey_manage.html", rows=rows, form=form,
                                             statuses=STATUS_LABELS), done.status)


@bp.route("/manage/<int:survey_id>", methods=["GET", "POST"])
@admin_required
def edit(survey_id: int):
    """The editor: the survey's settings and its questions (add, edit, move, remove while a draft)."""
    survey = surveys.manage(current_user, survey_id)
    form = _settings_form(survey)
    question_form = QuestionForm(prefix="n")
    done = submit(form, lambda: surveys.save(
        current_user, survey, organisation=orgs.managed_org(current_user, form.organisation_id.data),
        title=form.title.data, intro=form.intro.data or "", anonymous=form.anonymous.data,
        closes_on=form.closes_on.data), error_field=form.title, not_found_status=404,
        done=lambda s: flash_and_redirect(_("已保存。"), url_for("surveys.edit", survey_id=s.id)))
    return done.response or (_editor(survey, form, question_form), done.status)


def _settings_form(survey: Survey, formdata: object = _AUTO) -> SurveyForm:
    """The editor's settings form (prefixed: the page holds the question forms too)."""
    kwargs = {} if formdata is _AUTO else {"formdata": formdata}
    form = SurveyForm(obj=survey, prefix="s", **kwargs)
    form.organisation_id.choices = orgs.managed_org_choices(current_user)
    return form


def _editor(survey: Survey, form: SurveyForm, question_form: QuestionForm, editing: int | None = None,
            edit_errors: list[str] | None = None) -> str:
    return render_template("branch/survey_edit.html", survey=survey, form=form, question_form=question_form,
                           status=surveys.shown_status(survey), statuses=STATUS_LABELS, kinds=KIND_LABELS,
                           editing=editing, edit_errors=edit_errors or [], today=clock.site_today())


@bp.route("/manage/<int:survey_id>/questions", methods=["POST"])
@admin_required
def add_question(survey_id: int):
    """Add a question at the end."""
    survey = surveys.manage(current_user, survey_id)
    question_form = QuestionForm(prefix="n")
    done = submit(question_form, lambda: surveys.add_question(
        current_user, survey, kind=question_form.kind.data, text=question_form.text.data,
        options=_options(question_form.options.data), required=question_form.required.data),
        error_field=question_form.text,
        done=lambda q: flash_and_redirect(_("已添加题目。"), url_for("surveys.edit", survey_id=survey.id)
                                          + f"#question-{q.id}"))
    return done.response or (_editor(survey, _settings_form(survey, None), question_form), done.status)


@bp.route("/manage/<int:survey_id>/questions/<int:question_id>", methods=["POST"])
@admin_required
def update_question(survey_id: int, question_id: int):
    """Save a question's text, options and whether it must be answered."""
    survey = surveys.manage(current_user, survey_id)
    question = surveys.question_of(survey, question_id)
    text = request.form.get("text", "")
    if len(text) > SURVEY.question_max_chars or len(request.form.get("options", "")) > 8000:
        abort(400)
    try:
        surveys.update_question(current_user, question, text=text, options=_options(request.form.get("options")),
                                required=bool(request.form.get("required")))
    except ServiceError as exc:
        db.session.rollback()
        return _editor(survey, _settings_form(survey, None), QuestionForm(prefix="n", formdata=None),
                       editing=question.id, edit_errors=[exc.message]), status_for(exc)
    return flash_and_redirect(_("已保存题目。"), url_for("surveys.edit", survey_id=survey.id)
                              + f"#question-{question.id}")


@bp.route("/manage/<int:survey_id>/questions/<int:question_id>/<action>", methods=["POST"])
@admin_required
def change_question(survey_id: int, question_id: int, action: str):
    """Move a question up or down, or remove it."""
    if action not in ("up", "down", "remove"):
        abort(404)
    survey = surveys.manage(current_user, survey_id)
    question = surveys.question_of(survey, question_id)
    if action == "remove":
        attempt(lambda: surveys.remove_question(current_user, question), success=_("已删除题目。"))
    else:
        attempt(lambda: surveys.move_question(current_user, question, -1 if action == "up" else 1))
    return redirect(url_for("surveys.edit", survey_id=survey.id))


@bp.route("/manage/<int:survey_id>/status/<action>", methods=["POST"])
@admin_required
def change_status(survey_id: int, action: str):
    """Publish the survey to the members of the organisation's subtree (they are notified), or close it."""
    if action not in ("publish", "close"):
        abort(404)
    survey = surveys.manage(current_user, survey_id)
    if action == "publish":
        attempt(lambda: surveys.publish(current_user, survey), success=_("已发布，已通知相关党员。"))
        return redirect(url_for("surveys.edit", survey_id=survey.id))
    attempt(lambda: surveys.close(current_user, survey), success=_("调研已结束。"))
    return redirect(url_for("surveys.results", survey_id=survey.id))


@bp.route("/manage/<int:survey_id>/results")
@admin_required
def results(survey_id: int):
    """Counts and shares per option as bar charts (and a table), free-text answers, the response rate."""
    survey = surveys.manage(current_user, survey_id)
    data = surveys.results(current_user, survey)
    for q in data["questions"]:
        if q["kind"] != "text":
            q["chart"] = charts.hbars([(o["text"], o["percent"], f"{o['count']} · {o['percent']:.0f}%")
                                       for o in q["options"]], q["text"], max_value=100)
    return render_template("branch/survey_results.html", data=data, statuses=STATUS_LABELS, kinds=KIND_LABELS)


@bp.route("/manage/<int:survey_id>/results.xlsx")
@admin_required
def results_xlsx(survey_id: int) -> Response:
    """The results as an XLSX workbook."""
    survey = surveys.manage(current_user, survey_id)
    body = surveys.results_xlsx(current_user, survey)
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="survey-{survey.id}.xlsx"'})

