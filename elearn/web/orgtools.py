"""Organisation tools for org admins (their subtree) and site admins: bulk member import, annual off-job
training plans (备案) with participant assignment, and the audit log export."""
from __future__ import annotations

import csv
import io
import json
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, FloatField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from elearn.extensions import db
from elearn.models import Organisation
from elearn.policy import IMPORT, MEMBER_CATEGORIES, TRAINING_PLAN_STATUS_LABELS
from elearn.services import ServiceError, member_import, orgs, training_plans
from elearn.web.access import ADMINS, admin_required, managed_org_choices as _org_choices

bp = Blueprint("orgtools", __name__, url_prefix="/org")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV = [("orgtools.import_members", _l("批量导入"), ADMINS), ("orgtools.plans", _l("培训计划"), ADMINS)]


def _managed_org_or_404(org_id: int | None) -> Organisation:
    org = db.session.get(Organisation, org_id) if org_id else None
    if org is None or not orgs.can_manage(current_user, org):
        abort(404)
    return org


# -- member import ----------------------------------------------------------------------------------------------

class ImportForm(FlaskForm):
    organisation_id = SelectField(_l("默认导入到组织"), coerce=int)
    file = FileField(_l("CSV 或 Excel（.xlsx）文件"), validators=[FileRequired(_l("请选择文件。"))])


@bp.route("/import", methods=["GET", "POST"])
@admin_required
def import_members():
    """Upload a CSV/XLSX of members; either all rows are imported or none, with a report per rejected row."""
    form = ImportForm()
    form.organisation_id.choices = _org_choices()
    result, status, error = None, 200, None
    if form.validate_on_submit():
        org = _managed_org_or_404(form.organisation_id.data)
        upload = form.file.data
        data = upload.read(IMPORT.max_bytes + 1)
        try:
            result = member_import.import_members(current_user, org, upload.filename or "", data)
        except ServiceError as exc:
            db.session.rollback()
            error, status = exc.message, exc.status
        else:
            if result.ok:
                flash(_("已导入 %(n)d 名党员。", n=result.imported), "success")
            else:
                status = 422
    elif request.method == "POST":
        status = 400
    return render_template("orgtools/import.html", form=form, result=result, error=error,
                           max_rows=IMPORT.max_rows, categories=MEMBER_CATEGORIES), status


@bp.route("/import/template.csv")
@admin_required
def import_template():
    """A CSV with the expected column headings."""
    return Response(member_import.template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=members-template.csv"})


# -- training plans ---------------------------------------------------------------------------------------------

class PlanForm(FlaskForm):
    organisation_id = SelectField(_l("组织"), coerce=int)
    year = IntegerField(_l("年度"), validators=[DataRequired(_l("请填写年度。")), NumberRange(2000, 2100)])
    title = StringField(_l("计划名称"), validators=[DataRequired(_l("请填写计划名称。")), Length(max=200)])
    note = TextAreaField(_l("说明"), validators=[Optional(), Length(max=4000)])


class TrainingForm(FlaskForm):
    title = StringField(_l("培训名称"), validators=[DataRequired(_l("请填写培训名称。")), Length(max=200)])
    organiser = StringField(_l("主办单位"), validators=[DataRequired(_l("请填写主办单位。")), Length(max=200)])
    county_level = BooleanField(_l("县级及以上党委组织"))
    starts_on = DateField(_l("开始日期"), validators=[DataRequired(_l("请填写开始日期。"))])
    ends_on = DateField(_l("结束日期"), validators=[DataRequired(_l("请填写结束日期。"))])
    hours = FloatField(_l("学时"), validators=[DataRequired(_l("请填写学时。"))])
    location = StringField(_l("地点"), validators=[Optional(), Length(max=200)])


class AssignForm(FlaskForm):
    usernames = TextAreaField(_l("参训党员用户名（每行一个，或用逗号分隔）"),
                              validators=[DataRequired(_l("请填写用户名。")), Length(max=20000)])
    acknowledge = BooleanField(_l("我已知晓上述重复或时间冲突，仍然安排"))


@bp.route("/plans", methods=["GET", "POST"])
@admin_required
def plans():
    """Training plans of the organisations the admin manages, and a form to start one."""
    form = PlanForm()
    form.organisation_id.choices = _org_choices()
    if request.method == "GET":
        form.year.data = date.today().year
    status = 200
    if form.validate_on_submit():
        org = _managed_org_or_404(form.organisation_id.data)
        try:
            plan = training_plans.create_plan(current_user, org, year=form.year.data, title=form.title.data,
                                              note=form.note.data or "")
        except ServiceError as exc:
            db.session.rollback()
            form.title.errors = list(form.title.errors) + [exc.message]
            status = exc.status
        else:
            flash(_("已创建培训计划。"), "success")
            return redirect(url_for("orgtools.plan", plan_id=plan.id))
    elif request.method == "POST":
        status = 400
    return render_template("orgtools/plans.html", plans=training_plans.plans_for(current_user), form=form,
                           statuses=TRAINING_PLAN_STATUS_LABELS), status


@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
@admin_required
def plan(plan_id: int):
    """One plan: its trainings, a form to add one, and filing (备案)."""
    plan = training_plans.get_plan(current_user, plan_id)
    form = TrainingForm()
    status = 200
    if form.validate_on_submit():
        try:
            training_plans.add_training(current_user, plan, title=form.title.data, organiser=form.organiser.data,
                                        county_level=form.county_level.data, starts_on=form.starts_on.data,
                                        ends_on=form.ends_on.data, hours=form.hours.data,
                                        location=form.location.data or "")
        except ServiceError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            status = exc.status
        else:
            flash(_("已添加培训。"), "success")
            return redirect(url_for("orgtools.plan", plan_id=plan.id))
    elif request.method == "POST":
        status = 400
    return render_template("orgtools/plan.html", plan=plan, form=form, statuses=TRAINING_PLAN_STATUS_LABELS), status


@bp.route("/plans/<int:plan_id>/file", methods=["POST"])
@admin_required
def file_plan(plan_id: int):
    """File (备案) the plan."""
    plan = training_plans.get_plan(current_user, plan_id)
    try:
        training_plans.file_plan(current_user, plan)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("计划已备案。"), "success")
    return redirect(url_for("orgtools.plan", plan_id=plan.id))


def _split_usernames(raw: str) -> list[str]:
    return [p for p in raw.replace("，", ",").replace("、", ",").replace("\n", ",").split(",") if p.strip()]


@bp.route("/trainings/<int:training_id>", methods=["GET", "POST"])
@admin_required
def training(training_id: int):
    """Participants of a training; assigning warns of overlapping or duplicate trainings first."""
    training = training_plans.get_training(current_user, training_id)
    form = AssignForm()
    result, missing, status = None, [], 200
    if form.validate_on_submit():
        members, missing = training_plans.resolve_members(current_user, training,
                                                          _split_usernames(form.usernames.data))
        if missing:
            status = 400
        else:
            result = training_plans.assign(current_user, training, members, acknowledge=form.acknowledge.data)
            if result.saved:
                flash(_("已安排 %(n)d 人参训。", n=len(result.added)), "success")
                return redirect(url_for("orgtools.training", training_id=training.id))
            status = 409
    elif request.method == "POST":
        status = 400
    participants = sorted(training.participants, key=lambda p: p.user.name)
    return render_template("orgtools/training.html", training=training, form=form, result=result,
                           missing=missing, participants=participants), status


@bp.route("/trainings/<int:training_id>/remove", methods=["POST"])
@admin_required
def remove_participant(training_id: int):
    training = training_plans.get_training(current_user, training_id)
    user_id = request.form.get("user_id", type=int)
    if not user_id:
        abort(400)
    training_plans.unassign(current_user, training, user_id)
    flash(_("已移出培训名单。"), "success")
    return redirect(url_for("orgtools.training", training_id=training.id))


# -- audit log export -------------------------------------------------------------------------------------------

def _audit_rows():
    """The audit log as the admin filtered it on the page (same filters, same scope: org admins see actions by
    actors of their subtree), newest first, with actor names and readable changes — at most AUDIT_EXPORT_MAX."""
    from elearn.policy import AUDIT_ACTIONS
    from elearn.services import audit
    from elearn.web import local_time
    from elearn.web.admin import AUDIT_EXPORT_MAX, audit_query_from_args

    query = audit_query_from_args()
    if (request.args.get("since") and query.since is None) or (request.args.get("until") and query.until is None):
        abort(400)
    head = [_("时间"), _("操作人"), _("用户名"), _("操作"), _("操作代码"), _("对象类型"), _("对象编号"), _("之前"),
            _("之后")]
    rows = [head]
    for e, name, username in audit.search(current_user, query, limit=AUDIT_EXPORT_MAX):
        rows.append([local_time(e.at, seconds=True), name or _("系统"), username or "", str(AUDIT_ACTIONS.get(e.action, e.action)),
                     e.action, e.object_type, e.object_id,
                     json.dumps(e.before, ensure_ascii=False) if e.before else "",
                     json.dumps(e.after, ensure_ascii=False) if e.after else ""])
    return rows


def _safe_cell(value):
    # Cells starting with = + - @ are formulas to spreadsheet programs (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


@bp.route("/audit/export")
@admin_required
def audit_export():
    """The audit log as ``?format=xlsx`` (default) or ``csv``, with the page's filters (action, who, since,
    until)."""
    fmt = request.args.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        abort(400)
    rows = [[_safe_cell(c) for c in r] for r in _audit_rows()]
    stamp = date.today().isoformat()
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        return Response(("\ufeff" + out.getvalue()).encode("utf-8"), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename=audit-{stamp}.csv"})
    from openpyxl import Workbook
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("审计日志"))
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return send_file(buf, as_attachment=True, download_name=f"audit-{stamp}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
