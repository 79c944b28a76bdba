"""Annual off-job training plans (备案) for org admins (their subtree) and site admins: plans, the trainings
in them, participant assignment with the duplicate and overlap warning."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from elearn import clock
from elearn.access import ADMINS, admin_required
from elearn.branch import surveys
from elearn.branch.survey_models import Survey
from elearn.extensions import db
from elearn.http.forms import Form, attempt, flash_and_redirect, submit
from elearn.http.schemas import int_arg
from elearn.orgs import services as orgs
from elearn.policy import TRAINING_PLAN_STATUS_LABELS
from elearn.training import plans as training_plans

bp = Blueprint("plans", __name__, url_prefix="/org")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV = [("plans.plans", _l("培训计划"), ADMINS)]


# -- training plans ---------------------------------------------------------------------------------------------

class PlanForm(Form):
    organisation_id = SelectField(_l("组织"), coerce=int)
    year = IntegerField(_l("年度"), validators=[DataRequired(_l("请填写年度。")), NumberRange(2000, 2100)])
    title = StringField(_l("计划名称"), validators=[DataRequired(_l("请填写计划名称。")), Length(max=200)])
    note = TextAreaField(_l("说明"), validators=[Optional(), Length(max=4000)])


class TrainingForm(Form):
    title = StringField(_l("培训名称"), validators=[DataRequired(_l("请填写培训名称。")), Length(max=200)])
    organiser = StringField(_l("主办单位"), validators=[DataRequired(_l("请填写主办单位。")), Length(max=200)])
    county_level = BooleanField(_l("县级及以上党委组织"))
    starts_on = DateField(_l("开始日期"), validators=[DataRequired(_l("请填写开始日期。"))])
    ends_on = DateField(_l("结束日期"), validators=[DataRequired(_l("请填写结束日期。"))])
    hours = FloatField(_l("学时"), validators=[DataRequired(_l("请填写学时。"))])
    location = StringField(_l("地点"), validators=[Optional(), Length(max=200)])


class AssignForm(Form):
    usernames = TextAreaField(_l("参训党员用户名（每行一个，或用逗号分隔）"),
                              validators=[DataRequired(_l("请填写用户名。")), Length(max=20000)])
    acknowledge = BooleanField(_l("我已知晓上述重复或时间冲突，仍然安排"))


@bp.route("/plans", methods=["GET", "POST"])
@admin_required
def plans():
    """Training plans of the organisations the admin manages, and a form to start one."""
    form = PlanForm()
    form.organisation_id.choices = orgs.managed_org_choices(current_user)
    if request.method == "GET":
        form.year.data = clock.site_today().year
    done = submit(form, lambda: training_plans.create_plan(
        current_user, orgs.managed_org(current_user, form.organisation_id.data), year=form.year.data,
        title=form.title.data, note=form.note.data or ""), error_field=form.title, not_found_status=404,
        done=lambda plan: flash_and_redirect(_("已创建培训计划。"), url_for("plans.plan", plan_id=plan.id)))
    return done.response or (render_template("training/plans/plans.html", plans=training_plans.plans_for(current_user),
                                             form=form, statuses=TRAINING_PLAN_STATUS_LABELS), done.status)


@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
@admin_required
def plan(plan_id: int):
    """One plan: its trainings, a form to add one, and filing (备案)."""
    plan = training_plans.get_plan(current_user, plan_id)
    form = TrainingForm()
    done = submit(form, lambda: training_plans.add_training(
        current_user, plan, title=form.title.data, organiser=form.organiser.data,
        county_level=form.county_level.data, starts_on=form.starts_on.data, ends_on=form.ends_on.data,
        hours=form.hours.data, location=form.location.data or ""), not_found_status=404,
        done=lambda _training: flash_and_redirect(_("已添加培训。"), url_for("plans.plan", plan_id=plan.id)))
    survey = db.session.get(Survey, plan.survey_id) if plan.survey_id else None
    return done.response or (render_template(
        "training/plans/plan.html", plan=plan, form=form, statuses=TRAINING_PLAN_STATUS_LABELS, survey=survey,
        survey_results=survey is not None and orgs.can_manage(current_user, survey.organisation),
        citable=surveys.citable(plan.organisation)), done.status)


@bp.route("/plans/<int:plan_id>/survey", methods=["POST"])
@admin_required
def cite_survey(plan_id: int):
    """Choose the needs survey the plan answers (or none)."""
    plan = training_plans.get_plan(current_user, plan_id)
    raw = request.form.get("survey_id", "")
    if raw and not raw.isdigit():
        abort(400)
    attempt(lambda: training_plans.cite_survey(current_user, plan, int(raw) if raw else None),
            success=_("已保存。"))
    return redirect(url_for("plans.plan", plan_id=plan.id))


@bp.route("/plans/<int:plan_id>/file", methods=["POST"])
@admin_required
def file_plan(plan_id: int):
    """File (备案) the plan."""
    plan = training_plans.get_plan(current_user, plan_id)
    attempt(lambda: training_plans.file_plan(current_user, plan), success=_("计划已备案。"))
    return redirect(url_for("plans.plan", plan_id=plan.id))


def _split_usernames(raw: str) -> list[str]:
    return [p for p in raw.replace("，", ",").replace("、", ",").replace("\n", ",").split(",") if p.strip()]


@bp.route("/trainings/<int:training_id>", methods=["GET", "POST"])
@admin_required
def training(training_id: int):
    """Participants of a training; assigning warns of overlapping or duplicate trainings first."""
    training = training_plans.get_training(current_user, training_id)
    form = AssignForm()
    result, status = None, 200
    missing: list[str] = []
    if form.validate_on_submit():
        members, missing = training_plans.resolve_members(current_user, training,
                                                          _split_usernames(form.usernames.data))
        if missing:
            status = 400
        else:
            result = training_plans.assign(current_user, training, members, acknowledge=form.acknowledge.data)
            if result.saved:
                flash(_("已安排 %(n)d 人参训。", n=len(result.added)), "success")
                return redirect(url_for("plans.training", training_id=training.id))
            status = 409
    elif request.method == "POST":
        status = 400
    participants = sorted(training.participants, key=lambda p: p.user.name)
    return render_template("training/plans/training.html", training=training, form=form, result=result,
                           missing=missing, participants=participants), status


@bp.route("/trainings/<int:training_id>/remove", methods=["POST"])
@admin_required
def remove_participant(training_id: int):
    training = training_plans.get_training(current_user, training_id)
    user_id = int_arg(request.form, "user_id")
    if not user_id:
        abort(400)
    training_plans.unassign(current_user, training, user_id)
    flash(_("已移出培训名单。"), "success")
    return redirect(url_for("plans.training", training_id=training.id))
