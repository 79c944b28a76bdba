"""The secretary's pages (支部工作): the branches I run, a branch's dashboard, its meetings with attendance,
minutes and attachments, officer appointments (org admins) and the meetings-against-cadence roll-up."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from elearn import clock
from elearn.access import ADMINS
from elearn.branch import meetings, officers
from elearn.branch.forms import AppointForm, AttachmentForm, MeetingForm, MinutesForm
from elearn.branch.meeting_models import ATTENDANCE_STATUSES, Meeting
from elearn.errors import NotFound, ServiceError
from elearn.extensions import db
from elearn.http.errors import status_for
from elearn.http.forms import attempt, flash_and_redirect, submit
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.points import ranking
from elearn.policy import MEETINGS
from elearn.storage import get_storage
from elearn.training.models import GroupSession

bp = Blueprint("branch", __name__, url_prefix="/branch")


def _runs_a_branch(user: Any) -> bool:
    return user.role in ADMINS or bool(officers.secretary_orgs(user))


NAV: list = [("branch.index", _l("支部工作"), _runs_a_branch)]
STATUS_LABELS = {"present": _l("出席"), "absent": _l("缺席"), "excused": _l("请假")}
MEETING_STATUS_LABELS = {"scheduled": _l("待召开"), "held": _l("已召开"), "cancelled": _l("已取消")}
POST_CHOICES = [(code, str(label)) for code, label in officers.POST_LABELS.items()]


def _branch(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None or not officers.may_manage_branch(current_user, org):
        abort(404)
    return org


def _meeting(meeting_id: int) -> Meeting:
    try:
        return meetings.get_meeting(current_user, meeting_id)
    except NotFound:
        abort(404)


def _labels() -> dict[str, Any]:
    return {"kind_label": meetings.kind_label, "status_labels": STATUS_LABELS,
            "meeting_status_labels": MEETING_STATUS_LABELS}


@bp.route("/")
@login_required
def index():
    """The branches I run; with exactly one, straight to it."""
    branches = officers.managed_branches(current_user)
    if len(branches) == 1:
        return redirect(url_for("branch.dashboard", org_id=branches[0].id))
    if not branches:
        abort(403)
    return render_template("branch/index.html", branches=branches)


@bp.route("/<int:org_id>")
@login_required
def dashboard(org_id: int):
    """A branch at a glance: members' study status, this year's meetings against cadence, upcoming meetings,
    group video sessions and officers; a link to its points ranking while the ranking is switched on."""
    org = _branch(org_id)
    today = clock.site_today()
    sessions = list(db.session.execute(db.select(GroupSession).where(GroupSession.organisation_id == org.id)
                                       .order_by(GroupSession.scheduled_at.desc()).limit(20)).scalars())
    may_appoint = orgs.can_manage(current_user, org)
    form = AppointForm()
    form.post.choices = POST_CHOICES
    form.user_id.choices = [(u.id, f"{u.name}（{u.username}）") for u in meetings.audience(org)]
    return render_template(
        "branch/dashboard.html", org=org, members=meetings.members_study(org),
        cadence=meetings.meetings_against_cadence(org, date(today.year, 1, 1), today),
        upcoming=meetings.upcoming(org), recent=meetings.meetings_of(org, limit=10), sessions=sessions,
        officers=officers.current_officers(org), post_labels=officers.POST_LABELS, may_appoint=may_appoint,
        appoint_form=form, ranking_on=ranking.effective(org), **_labels())


@bp.route("/<int:org_id>/meetings")
@login_required
def meeting_list(org_id: int):
    """The branch's meetings of one year."""
    org = _branch(org_id)
    year = request.args.get("year", type=int) or clock.site_today().year
    if not MEETINGS.first_year <= year <= clock.site_today().year + 1:
        year = clock.site_today().year
    rows = meetings.meetings_of(org, start=date(year, 1, 1), end=date(year, 12, 31), limit=1000)
    return render_template("branch/meetings.html", org=org, rows=rows, year=year, **_labels())


def _hosts(org: Organisation) -> list[tuple[int, str]]:
    return [(u.id, u.name) for u in meetings.audience(org)]


def _meeting_values(form: MeetingForm) -> dict[str, Any]:
    return {"kind": form.kind.data, "title": form.title.data,
            "starts_at": clock.from_site_local(form.starts_at.data),
            "ends_at": clock.from_site_local(form.ends_at.data), "place": form.place.data or "",
            "online_url": form.online_url.data or "", "host_id": form.host_id.data or None,
            "lecturer_id": form.lecturer_id.data or None, "agenda": form.agenda.data or ""}


@bp.route("/<int:org_id>/meetings/new", methods=["GET", "POST"])
@login_required
def new_meeting(org_id: int):
    """Schedule a meeting; the branch's members are told."""
    org = _branch(org_id)
    form = MeetingForm(hosts=_hosts(org))
    done = submit(form, lambda: meetings.create_meeting(current_user, org, **_meeting_values(form)),
                  done=lambda m: flash_and_redirect(_("已登记会议并通知本支部党员。"),
                                                    url_for("branch.meeting", meeting_id=m.id)))
    return done.response or (render_template("branch/meeting_form.html", form=form, org=org, meeting=None),
                             done.status)


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit_meeting(meeting_id: int):
    """Edit a meeting's details (a held one's credits follow a changed kind or duration)."""
    meeting = _meeting(meeting_id)
    org = meeting.organisation
    form = MeetingForm(obj=meeting if request.method == "GET" else None, hosts=_hosts(org))
    if request.method == "GET":
        form.starts_at.data = clock.to_site(meeting.starts_at)
        form.ends_at.data = clock.to_site(meeting.ends_at)
        form.host_id.data = meeting.host_id or 0
    done = submit(form, lambda: meetings.update_meeting(current_user, meeting, **_meeting_values(form)),
                  done=lambda m: flash_and_redirect(_("已保存。"), url_for("branch.meeting", meeting_id=m.id)))
    return done.response or (render_template("branch/meeting_form.html", form=form, org=org, meeting=meeting),
                             done.status)


@bp.route("/meetings/<int:meeting_id>")
@login_required
def meeting(meeting_id: int):
    """A meeting: details, attendance with absence reasons, minutes and attachments."""
    found = _meeting(meeting_id)
    return _meeting_page(found, MinutesForm(minutes=found.minutes), AttachmentForm(), 200)


def _meeting_page(found: Meeting, minutes_form: MinutesForm, upload_form: AttachmentForm, status: int):
    marks = meetings.attendance_of(found)
    return render_template(
        "branch/meeting.html", meeting=found, org=found.organisation, members=meetings.audience(found.organisation),
        marks=marks, statuses=ATTENDANCE_STATUSES, attachments=meetings.attachments_of(found),
        credit_hours=meetings.credit_hours(found), minutes_form=minutes_form, upload_form=upload_form,
        max_mb=MEETINGS.attachment_max_bytes // (1024 * 1024), started=clock.now_utc() >= found.starts_at,
        **_labels()), status


@bp.route("/meetings/<int:meeting_id>/attendance", methods=["POST"])
@login_required
def attendance(meeting_id: int):
    """Record each member's attendance: present, absent or excused (with a reason)."""
    found = _meeting(meeting_id)
    marks: dict[int, tuple[str, str]] = {}
    for key, value in request.form.items():
        if not key.startswith("status-"):
            continue
        raw = key.removeprefix("status-")
        if not raw.isdigit() or len(raw) > 10 or not value:
            continue
        marks[int(raw)] = (value, request.form.get(f"reason-{raw}", ""))
    changed = attempt(lambda: meetings.mark_attendance(current_user, found, marks),
                      success=lambda n: _("已登记出勤（%(n)d 人有变动）。", n=n))
    if changed is None:
        return _meeting_page(found, MinutesForm(minutes=found.minutes), AttachmentForm(), 400)
    return redirect(url_for("branch.meeting", meeting_id=found.id))


@bp.route("/meetings/<int:meeting_id>/minutes", methods=["POST"])
@login_required
def minutes(meeting_id: int):
    """Save the minutes (rich text, sanitised)."""
    found = _meeting(meeting_id)
    form = MinutesForm()
    done = submit(form, lambda: meetings.update_meeting(current_user, found, minutes=form.minutes.data or ""),
                  done=lambda m: flash_and_redirect(_("已保存会议记录。"), url_for("branch.meeting", meeting_id=m.id)))
    return done.response or _meeting_page(found, form, AttachmentForm(), done.status)


@bp.route("/meetings/<int:meeting_id>/hold", methods=["POST"])
@login_required
def hold(meeting_id: int):
    """Close the meeting as held: present members of a crediting kind are credited."""
    found = _meeting(meeting_id)
    if attempt(lambda: meetings.hold_meeting(current_user, found), success=lambda m: _("会议已登记为已召开。")):
        return redirect(url_for("branch.meeting", meeting_id=found.id))
    return _meeting_page(found, MinutesForm(minutes=found.minutes), AttachmentForm(), 409)


@bp.route("/meetings/<int:meeting_id>/cancel", methods=["POST"])
@login_required
def cancel(meeting_id: int):
    """Cancel a meeting not yet held."""
    found = _meeting(meeting_id)
    attempt(lambda: meetings.cancel_meeting(current_user, found), success=lambda m: _("会议已取消。"))
    return redirect(url_for("branch.meeting", meeting_id=found.id))


def _is_xhr() -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


@bp.route("/meetings/<int:meeting_id>/attachments", methods=["POST"])
@login_required
def upload(meeting_id: int):
    """Upload a photo or document of the meeting (with a progress bar when scripts run)."""
    found = _meeting(meeting_id)
    form = AttachmentForm()
    if not form.validate():
        message = next(iter(form.file.errors or form.form_errors or [_("请选择文件。")]))
        if _is_xhr():
            return jsonify(error={"code": "invalid", "message": str(message)}), 400
        return _meeting_page(found, MinutesForm(minutes=found.minutes), form, 400)
    try:
        row = meetings.add_attachment(current_user, found, form.file.data.filename or "", form.file.data.stream)
    except ServiceError as exc:
        db.session.rollback()
        if _is_xhr():
            return jsonify(error={"code": exc.code, "message": exc.message}), status_for(exc)
        form.file.errors = [exc.message]
        return _meeting_page(found, MinutesForm(minutes=found.minutes), form, status_for(exc))
    flash(_("已上传附件。"), "success")
    # A URL of its own: the script's navigation to it reloads the page (a change of the #fragment alone would not).
    target = url_for("branch.meeting", meeting_id=found.id, uploaded=row.id, _anchor="attachments")
    if _is_xhr():
        return jsonify(redirect=target)
    return redirect(target)


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """Download an attachment (its meeting's managers and members)."""
    try:
        row = meetings.get_attachment(current_user, attachment_id)
    except NotFound:
        abort(404)
    return send_file(get_storage().path(row.storage_key), mimetype=row.content_type, download_name=row.filename,
                     as_attachment=not row.content_type.startswith("image/"))


@bp.route("/attachments/<int:attachment_id>/delete", methods=["POST"])
@login_required
def delete_attachment(attachment_id: int):
    """Remove an attachment."""
    try:
        row = meetings.get_attachment(current_user, attachment_id)
        meeting_id = row.meeting_id
        meetings.delete_attachment(current_user, attachment_id)
    except NotFound:
        abort(404)
    flash(_("已删除附件。"), "success")
    return redirect(url_for("branch.meeting", meeting_id=meeting_id) + "#attachments")


@bp.route("/meetings/<int:meeting_id>/mine")
@login_required
def member_view(meeting_id: int):
    """A meeting as a member of its branch sees it (the link of the notification)."""
    found = db.session.get(Meeting, meeting_id)
    if found is None or not meetings.in_audience(found, current_user):
        abort(404)
    if officers.may_manage_branch(current_user, found.organisation):
        return redirect(url_for("branch.meeting", meeting_id=found.id))
    mine = meetings.attendance_of(found).get(current_user.id)
    return render_template("branch/meeting_mine.html", meeting=found, mine=mine,
                           attachments=meetings.attachments_of(found), **_labels())


@bp.route("/<int:org_id>/officers", methods=["POST"])
@login_required
def appoint(org_id: int):
    """Appoint a member of the branch secretary, deputy or committee member (org admins)."""
    org = _branch(org_id)
    form = AppointForm()
    form.post.choices = POST_CHOICES

    def run() -> object:
        member = db.session.get(User, form.user_id.data)
        if member is None:
            raise NotFound(_("党员不存在。"))
        return officers.appoint(current_user, org, member, form.post.data)

    if form.validate():
        attempt(run, success=lambda o: _("已任命。"))
    else:
        flash(_("请选择党员和职务。"), "error")
    return redirect(url_for("branch.dashboard", org_id=org.id) + "#officers")


@bp.route("/officers/<int:officer_id>/end", methods=["POST"])
@login_required
def end_appointment(officer_id: int):
    """End an appointment today (org admins)."""
    try:
        officer = officers.end_appointment(current_user, officer_id)
    except NotFound:
        abort(404)
    flash(_("已免去该职务。"), "success")
    return redirect(url_for("branch.dashboard", org_id=officer.organisation_id) + "#officers")


@bp.route("/cadence/<int:org_id>")
@login_required
def cadence(org_id: int):
    """Meetings held against the usual cadence for an organisation's subtree, for a year."""
    org = _branch(org_id)
    today = clock.site_today()
    year = request.args.get("year", type=int) or today.year
    if not MEETINGS.first_year <= year <= today.year:
        year = today.year
    end = today if year == today.year else date(year, 12, 31)
    rows = meetings.meetings_against_cadence(org, date(year, 1, 1), end)
    return render_template("branch/cadence.html", org=org, rows=rows, year=year, end=end)
