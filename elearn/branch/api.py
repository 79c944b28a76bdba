"""The branch meetings API (``/api/v1/branch/…``): a secretary's (or an admin's) meetings of the branches they
run, attendance and closing, and the meetings-against-cadence counts, by the same rules as the pages."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_login import current_user

from elearn import clock
from elearn.branch import meetings, officers
from elearn.branch.meeting_models import Meeting
from elearn.branch.schemas import (
    AttendanceBody,
    AttendanceOut,
    CadenceOut,
    CadenceQuery,
    CadenceRow,
    Changed,
    MeetingCreate,
    MeetingDetail,
    MeetingList,
    MeetingOut,
    MeetingQuery,
)
from elearn.errors import NotFound, ServiceError
from elearn.extensions import db
from elearn.http.api import api_blueprint, operation
from elearn.orgs.models import Organisation

bp = api_blueprint("branch_api", __name__)
NOT_FOUND = {404: "no such meeting or organisation the caller runs"}


def _org(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None or not officers.may_manage_branch(current_user, org):
        raise NotFound(_("组织不存在。"))
    return org


def _out(m: Meeting) -> dict:
    return {"id": m.id, "organisation_id": m.organisation_id, "kind": m.kind, "kind_label": meetings.kind_label(m.kind),
            "title": m.title, "starts_at": m.starts_at, "ends_at": m.ends_at, "place": m.place,
            "online_url": m.online_url, "status": m.status, "credit_hours": meetings.credit_hours(m)}


def _detail(m: Meeting) -> MeetingDetail:
    rows = [AttendanceOut(user_id=a.user_id, status=a.status, reason=a.reason, method=a.method,
                          credited=a.credit_id is not None) for a in meetings.attendance_of(m).values()]
    return MeetingDetail(**_out(m), agenda=m.agenda, minutes=m.minutes, attendance=rows)


@operation(bp, "/branch/meetings", operation_id="listBranchMeetings", query=MeetingQuery, response=MeetingList,
           errors=NOT_FOUND, summary="Meetings of a branch the caller runs, in one year, newest first")
def list_meetings(query: MeetingQuery) -> MeetingList:
    org = _org(query.org)
    year = query.year or clock.site_today().year
    rows = meetings.meetings_of(org, start=date(year, 1, 1), end=date(year, 12, 31), limit=1000)
    return MeetingList(items=[MeetingOut(**_out(m)) for m in rows])


@operation(bp, "/branch/meetings", method="POST", operation_id="createBranchMeeting", body=MeetingCreate,
           response=MeetingDetail, errors=NOT_FOUND,
           summary="Schedule a meeting (times in site local time); the branch's members are told")
def create_meeting(body: MeetingCreate) -> MeetingDetail:
    if body.starts_at.tzinfo is not None or body.ends_at.tzinfo is not None:
        raise ServiceError(_("请用不带时区的本地时间。"), "bad_times")
    org = _org(body.organisation_id)
    values = body.model_dump(exclude={"organisation_id"})
    values["starts_at"] = clock.from_site_local(body.starts_at)
    values["ends_at"] = clock.from_site_local(body.ends_at)
    return _detail(meetings.create_meeting(current_user, org, **values))


@operation(bp, "/branch/meetings/<int:meeting_id>", operation_id="getBranchMeeting", response=MeetingDetail,
           errors=NOT_FOUND, summary="A meeting with its attendance")
def get_meeting(meeting_id: int) -> MeetingDetail:
    return _detail(meetings.get_meeting(current_user, meeting_id))


@operation(bp, "/branch/meetings/<int:meeting_id>/attendance", method="PUT", operation_id="markBranchAttendance",
           body=AttendanceBody, response=Changed, errors={**NOT_FOUND, 409: "meeting cancelled"},
           summary="Record members' attendance (present, absent, excused with a reason); all or nothing")
def mark_attendance(meeting_id: int, body: AttendanceBody) -> Changed:
    meeting = meetings.get_meeting(current_user, meeting_id)
    marks = {m.user_id: (m.status, m.reason) for m in body.marks}
    return Changed(changed=meetings.mark_attendance(current_user, meeting, marks))


@operation(bp, "/branch/meetings/<int:meeting_id>/hold", method="POST", operation_id="holdBranchMeeting",
           response=MeetingDetail, errors={**NOT_FOUND, 409: "meeting cancelled"},
           summary="Close a meeting as held: present members of a crediting kind are credited once")
def hold_meeting(meeting_id: int) -> MeetingDetail:
    return _detail(meetings.hold_meeting(current_user, meetings.get_meeting(current_user, meeting_id)))


@operation(bp, "/branch/cadence", operation_id="branchMeetingCadence", query=CadenceQuery, response=CadenceOut,
           errors=NOT_FOUND, summary="Meetings held against the usual cadence in an organisation's subtree")
def cadence(query: CadenceQuery) -> CadenceOut:
    if query.end < query.start or (query.end - query.start).days > 366 * 5:
        raise ServiceError(_("日期范围无效。"), "bad_range")
    rows = meetings.meetings_against_cadence(_org(query.org), query.start, query.end)
    return CadenceOut(items=[CadenceRow(**r) for r in rows])
