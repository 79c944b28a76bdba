"""Org-admin pages: offline/off-job training records and video group training sessions with attendance."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from elearn import clock
from elearn.access import ADMINS, admin_required
from elearn.branch import officers
from elearn.courses.models import Lesson
from elearn.errors import NotFound, ServiceError
from elearn.extensions import db
from elearn.http.forms import Form, attempt, flash_and_redirect, submit
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.policy import CONTENT_CATEGORIES, ORGANISER_LEVELS
from elearn.training import services as offline
from elearn.training.models import GroupSession

bp = Blueprint("training", __name__, url_prefix="/training")
# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = [("training.index", _l("培训记录"), ADMINS)]


class TrainingForm(Form):
    organisation_id = SelectField(_l("记录组织"), coerce=int)
    title = StringField(_l("培训名称"), validators=[DataRequired(_l("请填写培训名称。")), Length(max=200)])
    organiser = StringField(_l("主办单位"), validators=[DataRequired(_l("请填写主办单位。")), Length(max=200)])
    organiser_level = SelectField(_l("主办层级"))
    offjob = BooleanField(_l("脱产培训"))
    category = SelectField(_l("教育类别"))
    innovative_theory = BooleanField(_l("属于党的创新理论教育"))
    starts_on = DateField(_l("开始日期"), validators=[DataRequired(_l("请填写开始日期。"))])
    ends_on = DateField(_l("结束日期"), validators=[DataRequired(_l("请填写结束日期。"))])
    days = DecimalField(_l("天数（1 天 = 8 学时）"), places=1, validators=[Optional(), NumberRange(0.5, 31)])
    hours = DecimalField(_l("或学时"), places=1, validators=[Optional(), NumberRange(0.5, 248)])
    attendees = TextAreaField(_l("参训党员用户名（每行一个）"), validators=[DataRequired(_l("请填写参训党员。"))])
    note = StringField(_l("备注"), validators=[Optional(), Length(max=300)])
    submit = SubmitField(_l("保存并计入学时"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_id.choices = orgs.managed_org_choices(current_user)
        self.organiser_level.choices = [(k, str(v)) for k, v in ORGANISER_LEVELS.items()]
        self.category.choices = [(k, str(v)) for k, v in CONTENT_CATEGORIES.items()]


class GroupSessionForm(Form):
    organisation_id = SelectField(_l("组织"), coerce=int)
    lesson_id = SelectField(_l("播放课程"), coerce=int)
    scheduled_at = DateTimeLocalField(_l("时间"), format="%Y-%m-%dT%H:%M",
                                      validators=[DataRequired(_l("请填写时间。"))])
    location = StringField(_l("地点"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("安排集中培训"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # An admin's organisations, or the branches a secretary runs.
        self.organisation_id.choices = [(o.id, ("· " * o.depth) + o.name)
                                        for o in officers.managed_branches(current_user)]
        self.lesson_id.choices = [(les.id, f"{les.course.title} · {les.title}")
                                  for les in offline.schedulable_lessons()]


@bp.route("/")
@admin_required
def index():
    """Recorded trainings and group sessions in the admin's subtree."""
    return render_template("training/index.html", trainings=offline.trainings_for(current_user),
                           sessions=offline.group_sessions_for(current_user))


@bp.route("/offline/new", methods=["GET", "POST"])
@admin_required
def new_training():
    """Record an offline or off-job training and credit its attendees."""
    form = TrainingForm()

    def record() -> int:
        attendees = offline.users_by_username(current_user, form.attendees.data.splitlines())
        offline.record_training(
            current_user, organisation=orgs.managed_org(current_user, form.organisation_id.data),
            title=form.title.data, organiser=form.organiser.data, organiser_level=form.organiser_level.data,
            offjob=form.offjob.data, category=form.category.data, innovative_theory=form.innovative_theory.data,
            starts_on=form.starts_on.data, ends_on=form.ends_on.data,
            days=float(form.days.data) if form.days.data is not None else None,
            hours=float(form.hours.data) if form.hours.data is not None else None, attendees=attendees,
            note=form.note.data or "")
        return len(attendees)

    done = submit(form, record, done=lambda n: flash_and_redirect(
        _("已记录培训，%(n)d 名党员已计入学时。", n=n), url_for("training.index")))
    return done.response or (render_template("training/new_training.html", form=form), done.status)


def _require_branch_runner() -> None:
    """Group sessions are for admins and the secretaries (deputies) of branches; anyone else gets 403."""
    if not officers.managed_branches(current_user):
        abort(403)


@bp.route("/group/new", methods=["GET", "POST"])
@login_required
def new_group_session():
    """Schedule a video group training: a branch plays a lesson to members present (an admin, or the
    branch's secretary)."""
    _require_branch_runner()
    form = GroupSessionForm()
    preset: int | None = request.args.get("org", type=int)
    if request.method == "GET" and preset:
        form.organisation_id.data = preset

    def schedule() -> GroupSession:
        lesson = db.session.get(Lesson, form.lesson_id.data)
        if lesson is None:
            raise NotFound(_("课程内容不存在。"))
        organisation = db.session.get(Organisation, form.organisation_id.data)
        if organisation is None:
            raise NotFound(_("组织不存在。"))
        return offline.schedule_group_session(
            current_user, organisation=organisation, lesson=lesson,
            scheduled_at=clock.from_site_local(form.scheduled_at.data), location=form.location.data or "")

    done = submit(form, schedule, done=lambda session: flash_and_redirect(
        _("已安排集中培训。"), url_for("training.group_session", session_id=session.id)))
    if done.status not in (200, 400):
        done.status = 400  # every refusal here is about what was typed in the form
    return done.response or (render_template("training/new_group.html", form=form), done.status)


@bp.route("/group/<int:session_id>/cancel", methods=["POST"])
@login_required
def cancel_group_session(session_id: int):
    """Cancel a group session before anyone is marked present."""
    _require_branch_runner()
    try:
        session = offline.get_group_session(current_user, session_id)
    except NotFound:
        abort(404)
    org_id = session.organisation_id
    try:
        offline.cancel_group_session(current_user, session)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("training.group_session", session_id=session_id))
    flash(_("已取消该次集中培训。"), "success")
    if current_user.role not in ADMINS:  # a branch secretary goes back to their branch
        return redirect(url_for("branch.dashboard", org_id=org_id))
    return redirect(url_for("training.index"))


@bp.route("/group/<int:session_id>", methods=["GET", "POST"])
@login_required
def group_session(session_id: int):
    """Attendance of a group session: mark members present; each is credited."""
    _require_branch_runner()
    try:
        session = offline.get_group_session(current_user, session_id)
    except NotFound:
        abort(404)
    status = 200
    if request.method == "POST":
        ids = {int(v) for v in request.form.getlist("present") if v.isdigit() and len(v) < 10}
        people = [u for u in (db.session.get(User, i) for i in ids) if u is not None]
        added = attempt(lambda: offline.mark_attendance(current_user, session, people),
                        success=lambda n: _("已签到 %(n)d 人并计入学时。", n=n))
        if added is not None:
            return redirect(url_for("training.group_session", session_id=session.id))
        status = 400
    present = {a.user_id for a in session.attendees}
    lesson = db.session.get(Lesson, session.lesson_id)
    return render_template("training/group.html", session=session, lesson=lesson, present=present,
                           candidates=offline.group_candidates(session)), status
