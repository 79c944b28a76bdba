"""Organisational-life meetings of a branch (三会一课, 主题党日, 组织生活会, 民主评议, 谈心谈话, 中心组学习, 专题讲座).

Only ``may_manage_branch`` on the meeting's organisation creates, edits, cancels, marks attendance and closes a
meeting. The audience is the organisation's current members (home members and mobile members studying with it).
A meeting closed as held credits its present members when its kind credits (``MEETINGS.kinds``): the duration
at ``MEETINGS.minutes_per_hour`` per 学时, capped. Each credit is a :class:`MeetingCredit` (the ledger's source),
claimed on the attendance row by a conditional update, so a member is never credited twice at once; a member
marked absent afterwards has that credit corrected (elearn.ledger.services.reverse), marked present again gets a
new one. Check-in (elearn.branch.checkin) uses :func:`checkin_window`, :func:`in_audience` and
:func:`record_checkin`; the evaluation report uses :func:`meetings_against_cadence`.
"""
from __future__ import annotations

import io
import math
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import BinaryIO

import nh3
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from elearn import clock
from elearn.audit import services as audit
from elearn.branch import officers
from elearn.branch.meeting_models import (
    ATTENDANCE_STATUSES,
    Meeting,
    MeetingAttachment,
    MeetingAttendance,
    MeetingCredit,
)
from elearn.courses.models import Lesson
from elearn.courses.services import ALLOWED_TAGS
from elearn.errors import Conflict, NotFound, ServiceError
from elearn.extensions import db, rowcount
from elearn.ledger import requirements
from elearn.ledger import services as ledger
from elearn.notify.services import notify
from elearn.orgs.models import Membership, Organisation, User
from elearn.policy import MEETINGS
from elearn.storage import get_storage
from elearn.training.models import Lecturer

SOURCE_KIND = "meeting_credit"
EDITABLE = ("kind", "title", "starts_at", "ends_at", "place", "online_url", "host_id", "lecturer_id", "lesson_id",
            "agenda")
# Attachment types recognised by their first bytes: (content type, extension).
_JPEG = ("image/jpeg", "jpg")
_PNG = ("image/png", "png")
_PDF = ("application/pdf", "pdf")
_DOCX = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
_XLSX = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
MINUTES_TAGS = ALLOWED_TAGS | {"u", "s", "h1", "h5", "h6", "span", "div", "img"}


def kind_label(kind: str) -> str:
    found = MEETINGS.kinds.get(kind)
    return str(found.label) if found is not None else kind


def kind_choices() -> list[tuple[str, str]]:
    return [(code, str(k.label)) for code, k in MEETINGS.kinds.items()]


def sanitise_minutes(text: str | None) -> str:
    """Minutes as safe HTML: an editor's HTML keeps harmless tags only; plain text keeps its paragraphs."""
    text = (text or "").strip()
    if not text:
        return ""
    if "<" not in text:
        paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
        return "".join(f"<p>{Markup('<br>').join(escape(line) for line in p.split(chr(10)))}</p>"
                       for p in paragraphs)
    return nh3.clean(text, tags=MINUTES_TAGS, attributes={"a": {"href", "title"}, "img": {"src", "alt"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


# -- the audience ---------------------------------------------------------------------------------------------

def audience(org: Organisation) -> list[User]:
    """The organisation's current members: its home members and the mobile members studying with it now."""
    inflow = select(Membership.user_id).where(Membership.organisation_id == org.id, Membership.kind == "inflow",
                                              Membership.ended_on.is_(None))
    found = db.session.execute(select(User).where(
        User.active.is_(True), or_(User.organisation_id == org.id, User.id.in_(inflow)))
        .order_by(User.username)).scalars()
    return sorted(found, key=lambda u: u.name)  # names are encrypted: sorted here


def in_audience(meeting: Meeting, user: User) -> bool:
    if not getattr(user, "active", False):
        return False
    if user.organisation_id == meeting.organisation_id:
        return True
    return db.session.execute(select(Membership.id).where(
        Membership.user_id == user.id, Membership.organisation_id == meeting.organisation_id,
        Membership.kind == "inflow", Membership.ended_on.is_(None))).first() is not None


# -- meetings -------------------------------------------------------------------------------------------------

def get_meeting(actor: User, meeting_id: int) -> Meeting:
    """A meeting its organisation's secretary, deputy or an admin over it may run (others: not found)."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not officers.may_manage_branch(actor, meeting.organisation):
        raise NotFound(_("会议不存在。"))
    return meeting


def _clean_fields(org: Organisation, values: dict) -> dict:
    out = dict(values)
    if "kind" in out and out["kind"] not in MEETINGS.kinds:
        raise ServiceError(_("未知的会议类型。"), "bad_kind")
    if "title" in out:
        out["title"] = (out["title"] or "").strip()
        if not out["title"]:
            raise ServiceError(_("请填写会议主题。"), "title_required")
        if len(out["title"]) > MEETINGS.title_max:
            raise ServiceError(_("会议主题不能超过 %(n)d 个字。", n=MEETINGS.title_max), "title_too_long")
    for key, limit in (("place", MEETINGS.place_max), ("online_url", 500), ("agenda", MEETINGS.agenda_max_chars)):
        if key in out:
            out[key] = (out[key] or "").strip()
            if len(out[key]) > limit:
                raise ServiceError(_("内容过长（最多 %(n)d 个字）。", n=limit), "too_long")
    if out.get("online_url") and not out["online_url"].startswith(("https://", "http://")):
        raise ServiceError(_("线上会议链接须以 http:// 或 https:// 开头。"), "bad_url")
    if out.get("host_id") is not None:
        host = db.session.get(User, out["host_id"])
        if host is None or not host.active:
            raise ServiceError(_("主持人不存在。"), "bad_host")
    if out.get("lecturer_id") is not None and db.session.get(Lecturer, out["lecturer_id"]) is None:
        raise ServiceError(_("师资库中没有该讲师。"), "bad_lecturer")
    if out.get("lesson_id") is not None and db.session.get(Lesson, out["lesson_id"]) is None:
        raise ServiceError(_("课程视频不存在。"), "bad_lesson")
    return out


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise ServiceError(_("结束时间须晚于开始时间。"), "bad_times")
    if ends_at - starts_at > timedelta(hours=MEETINGS.max_duration_h):
        raise ServiceError(_("会议时长不能超过 %(n)d 小时。", n=MEETINGS.max_duration_h), "too_long")
    first = clock.from_site_local(datetime.combine(date(MEETINGS.first_year, 1, 1), time()))
    last = clock.from_site_local(datetime.combine(date(clock.site_today().year + 2, 1, 1), time()))
    if not first <= starts_at < last:
        raise ServiceError(_("会议日期超出可登记的范围。"), "bad_date")


def create_meeting(actor: User, org: Organisation, *, kind: str, title: str, starts_at: datetime,
                   ends_at: datetime, place: str = "", online_url: str = "", host_id: int | None = None,
                   lecturer_id: int | None = None, lesson_id: int | None = None, agenda: str = "") -> Meeting:
    """Schedule a meeting of ``org`` (times UTC) and tell its audience."""
    officers.require_manage_branch(actor, org)
    values = _clean_fields(org, {"kind": kind, "title": title, "place": place, "online_url": online_url,
                                 "host_id": host_id, "lecturer_id": lecturer_id, "lesson_id": lesson_id,
                                 "agenda": agenda})
    _check_times(starts_at, ends_at)
    meeting = Meeting(organisation_id=org.id, starts_at=starts_at, ends_at=ends_at, created_by_id=actor.id,
                      status="scheduled", **values)
    db.session.add(meeting)
    db.session.flush()
    audit.record(actor, "meeting.create", meeting, after={
        "organisation_id": org.id, "kind": kind, "title": meeting.title, "starts_at": starts_at.isoformat()})
    when = clock.to_site(starts_at).strftime("%Y-%m-%d %H:%M")
    for member in audience(org):
        notify(member, "meeting_scheduled", _("%(kind)s：%(title)s", kind=kind_label(kind), title=meeting.title),
               _("时间：%(when)s　地点：%(place)s", when=when, place=meeting.place or meeting.online_url or "—"),
               link=f"/branch/meetings/{meeting.id}/mine", commit=False)
    db.session.commit()
    return meeting


def update_meeting(actor: User, meeting: Meeting, **changes: object) -> Meeting:
    """Edit a scheduled or held meeting; a held one's credits follow a changed kind or duration."""
    officers.require_manage_branch(actor, meeting.organisation)
    if meeting.status == "cancelled":
        raise Conflict(_("会议已取消，不能修改。"), "cancelled")
    unknown = set(changes) - set(EDITABLE) - {"minutes"}
    if unknown:
        raise ServiceError(_("不能修改这些字段：%(f)s", f=", ".join(sorted(unknown))), "bad_field")
    values = _clean_fields(meeting.organisation, {k: v for k, v in changes.items() if k != "minutes"})
    starts_at = values.get("starts_at", meeting.starts_at)
    ends_at = values.get("ends_at", meeting.ends_at)
    assert isinstance(starts_at, datetime) and isinstance(ends_at, datetime)
    _check_times(starts_at, ends_at)
    if "minutes" in changes:
        minutes = sanitise_minutes(str(changes["minutes"] or ""))
        if len(minutes) > MEETINGS.minutes_max_chars:
            raise ServiceError(_("会议记录过长。"), "too_long")
        values["minutes"] = minutes
    before = {k: _plain(getattr(meeting, k)) for k in values}
    for key, value in values.items():
        setattr(meeting, key, value)
    audit.record(actor, "meeting.update", meeting, before=before, after={k: _plain(v) for k, v in values.items()})
    if meeting.status == "held":
        _sync_all(actor, meeting)
    db.session.commit()
    return meeting


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def cancel_meeting(actor: User, meeting: Meeting) -> Meeting:
    officers.require_manage_branch(actor, meeting.organisation)
    if meeting.status != "scheduled":
        raise Conflict(_("只能取消尚未召开的会议。"), "not_scheduled")
    meeting.status = "cancelled"
    meeting.cancelled_at = clock.now_utc()
    audit.record(actor, "meeting.cancel", meeting, after={"status": "cancelled"})
    db.session.commit()
    return meeting


def hold_meeting(actor: User, meeting: Meeting) -> Meeting:
    """Close the meeting as held: its present members of a crediting kind are credited (once)."""
    officers.require_manage_branch(actor, meeting.organisation)
    if meeting.status == "cancelled":
        raise Conflict(_("会议已取消。"), "cancelled")
    now = clock.now_utc()
    if now < meeting.starts_at:
        raise ServiceError(_("会议尚未开始，不能登记为已召开。"), "not_started")
    if meeting.status != "held":
        claimed = rowcount(db.session.execute(update(Meeting).where(
            Meeting.id == meeting.id, Meeting.status == "scheduled").values(status="held", held_at=now)
            .execution_options(synchronize_session=False)))
        db.session.refresh(meeting)
        if claimed == 1:
            audit.record(actor, "meeting.held", meeting, after={"status": "held"})
    _sync_all(actor, meeting)
    db.session.commit()
    return meeting


# -- credit ---------------------------------------------------------------------------------------------------

def credit_hours(meeting: Meeting) -> float:
    """学时 one present member earns at ``meeting`` (0 for a kind that only records)."""
    kind = MEETINGS.kinds.get(meeting.kind)
    if kind is None or not kind.credits:
        return 0.0
    minutes = (meeting.ends_at - meeting.starts_at).total_seconds() / 60
    return round(min(MEETINGS.max_credit_hours, minutes / MEETINGS.minutes_per_hour), 2)


def _sync_all(actor: User, meeting: Meeting) -> None:
    rows = db.session.execute(select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting.id)).scalars()
    for row in list(rows):
        _sync_credit(actor, meeting, row)


def _sync_credit(actor: User, meeting: Meeting, row: MeetingAttendance) -> None:
    """Make the member's credit for ``meeting`` what the record says now: one credit of the current hours
    while present at a held crediting meeting, none otherwise."""
    hours = credit_hours(meeting) if meeting.status == "held" and row.status == "present" else 0.0
    current = db.session.get(MeetingCredit, row.credit_id) if row.credit_id is not None else None
    if current is not None and current.hours == hours:
        return
    now = clock.now_utc()
    if current is not None:
        released = rowcount(db.session.execute(update(MeetingAttendance).where(
            MeetingAttendance.id == row.id, MeetingAttendance.credit_id == current.id).values(credit_id=None)
            .execution_options(synchronize_session=False)))
        if released == 1:
            ledger.reverse(row.user, SOURCE_KIND, current.id, actor=actor,
                           note=_("会议出勤或时长更改：%(t)s", t=meeting.title))
            current.reversed_at = now
        row.credit_id = None
    if hours <= 0:
        return
    credit = MeetingCredit(meeting_id=meeting.id, user_id=row.user_id, hours=hours, credited_at=now)
    db.session.add(credit)
    db.session.flush()
    # Claimed on the attendance row first: a racing close or check-in finds it taken and credits nothing.
    claimed = rowcount(db.session.execute(update(MeetingAttendance).where(
        MeetingAttendance.id == row.id, MeetingAttendance.credit_id.is_(None)).values(credit_id=credit.id)
        .execution_options(synchronize_session=False)))
    if claimed != 1:
        db.session.delete(credit)
        db.session.refresh(row)
        return
    row.credit_id = credit.id
    kind = MEETINGS.kinds[meeting.kind]
    ledger.credit(row.user, kind="meeting", source_kind=SOURCE_KIND, source_id=credit.id, hours=hours,
                  title=f"{kind_label(meeting.kind)} · {meeting.title}", category=kind.category,
                  innovative_theory=kind.innovative_theory, credited_on=clock.site_date(meeting.starts_at),
                  recorded_by=actor)


# -- attendance -----------------------------------------------------------------------------------------------

def attendance_of(meeting: Meeting) -> dict[int, MeetingAttendance]:
    rows = db.session.execute(select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting.id)).scalars()
    return {row.user_id: row for row in rows}


def mark_attendance(actor: User, meeting: Meeting, marks: dict[int, tuple[str, str]]) -> int:
    """Record ``{user_id: (status, reason)}`` for members of the audience; an excused absence needs its reason.
    All or nothing: one bad mark changes nothing. Returns how many rows changed."""
    officers.require_manage_branch(actor, meeting.organisation)
    if meeting.status == "cancelled":
        raise Conflict(_("会议已取消。"), "cancelled")
    if not marks:
        raise ServiceError(_("请至少登记一名党员的出勤。"), "no_marks")
    members = {u.id: u for u in audience(meeting.organisation)}
    existing_rows = attendance_of(meeting)
    for user_id, (status, reason) in marks.items():
        if user_id not in members and user_id not in existing_rows:
            raise ServiceError(_("只能登记本支部党员的出勤。"), "not_member")
        if status not in ATTENDANCE_STATUSES:
            raise ServiceError(_("未知的出勤状态。"), "bad_status")
        if len(reason or "") > MEETINGS.reason_max:
            raise ServiceError(_("缺席原因不能超过 %(n)d 个字。", n=MEETINGS.reason_max), "reason_too_long")
        if status == "excused" and not (reason or "").strip():
            raise ServiceError(_("请假须填写原因。"), "reason_required")
    now = clock.now_utc()
    changed = 0
    for user_id, (status, reason) in marks.items():
        reason = (reason or "").strip() if status != "present" else ""
        row = existing_rows.get(user_id)
        if row is None:
            row = MeetingAttendance(meeting_id=meeting.id, user_id=user_id, status=status, reason=reason,
                                    method="manual", marked_by_id=actor.id, marked_at=now)
            db.session.add(row)
            db.session.flush()
        elif (row.status, row.reason) == (status, reason):
            continue
        else:
            row.status, row.reason, row.method = status, reason, "manual"
            row.marked_by_id, row.marked_at = actor.id, now
        changed += 1
        if meeting.status == "held":
            _sync_credit(actor, meeting, row)
    audit.record(actor, "meeting.attendance", meeting,
                 after={"marks": {str(k): v[0] for k, v in marks.items()}})
    db.session.commit()
    return changed


def checkin_window(meeting: Meeting) -> tuple[datetime, datetime]:
    """When members may check in: from ``MEETINGS.checkin_opens_before_min`` before the start to the end (plus
    ``checkin_closes_after_min``)."""
    return (meeting.starts_at - timedelta(minutes=MEETINGS.checkin_opens_before_min),
            meeting.ends_at + timedelta(minutes=MEETINGS.checkin_closes_after_min))


def record_checkin(meeting: Meeting, user: User, at: datetime) -> MeetingAttendance:
    """The member checked in at ``at``: present (method "checkin"); asking again returns the same row. A mark
    of the secretary stands unless it was absent or excused (then the member's presence wins). Raises
    ServiceError outside the window, for a cancelled meeting or for someone not in the audience."""
    if meeting.status == "cancelled":
        raise ServiceError(_("会议已取消。"), "cancelled")
    opens, closes = checkin_window(meeting)
    if not opens <= at <= closes:
        raise ServiceError(_("不在签到时间内。"), "outside_window")
    if not in_audience(meeting, user):
        raise ServiceError(_("您不是本支部党员，不能签到。"), "not_member")
    row = attendance_of(meeting).get(user.id)
    if row is not None and row.status == "present":
        return row
    if row is None:
        row = MeetingAttendance(meeting_id=meeting.id, user_id=user.id, status="present", reason="",
                                method="checkin", marked_by_id=user.id, marked_at=at)
        db.session.add(row)
    else:
        row.status, row.reason, row.method, row.marked_by_id, row.marked_at = "present", "", "checkin", user.id, at
    try:
        db.session.flush()
    except IntegrityError:  # the member's other device won between the read and the write
        db.session.rollback()
        return attendance_of(meeting)[user.id]
    if meeting.status == "held":
        _sync_credit(user, meeting, row)
    audit.record(user, "meeting.checkin", meeting, after={"user_id": user.id})
    db.session.commit()
    return row


# -- attachments ----------------------------------------------------------------------------------------------

def sniff_type(head: bytes, whole: BinaryIO) -> tuple[str, str] | None:
    """(content type, extension) of an allowed attachment by its content, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return _JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _PNG
    if head.startswith(b"%PDF-"):
        return _PDF
    if head.startswith(b"PK\x03\x04"):
        try:
            whole.seek(0)
            names = set(zipfile.ZipFile(whole).namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return _DOCX
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return _XLSX
    return None


def add_attachment(actor: User, meeting: Meeting, filename: str, stream: BinaryIO) -> MeetingAttachment:
    """Store a photo or document of the meeting (JPEG, PNG, PDF, DOCX, XLSX by content; size in policy)."""
    officers.require_manage_branch(actor, meeting.organisation)
    count = db.session.execute(select(func.count(MeetingAttachment.id)).where(
        MeetingAttachment.meeting_id == meeting.id)).scalar_one()
    if count >= MEETINGS.attachments_per_meeting:
        raise ServiceError(_("每次会议最多 %(n)d 个附件。", n=MEETINGS.attachments_per_meeting), "too_many")
    data = stream.read(MEETINGS.attachment_max_bytes + 1)
    if not data:
        raise ServiceError(_("请选择要上传的文件。"), "empty")
    if len(data) > MEETINGS.attachment_max_bytes:
        raise ServiceError(_("附件不能超过 %(n)d MB。", n=MEETINGS.attachment_max_bytes // (1024 * 1024)),
                           "too_large")
    found = sniff_type(data[:16], io.BytesIO(data))
    if found is None:
        raise ServiceError(_("只能上传 JPEG、PNG 图片或 PDF、Word（docx）、Excel（xlsx）文件。"), "bad_type")
    content_type, ext = found
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:150] or f"attachment.{ext}"
    key = f"meetings/{meeting.id}/{uuid.uuid4().hex}.{ext}"
    get_storage().save(key, io.BytesIO(data))
    row = MeetingAttachment(meeting_id=meeting.id, filename=name, content_type=content_type, size=len(data),
                            storage_key=key, uploaded_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "meeting.attachment", meeting, after={"attachment_id": row.id, "filename": name})
    db.session.commit()
    return row


def attachments_of(meeting: Meeting) -> list[MeetingAttachment]:
    return list(db.session.execute(select(MeetingAttachment).where(MeetingAttachment.meeting_id == meeting.id)
                                   .order_by(MeetingAttachment.id)).scalars())


def get_attachment(actor: User, attachment_id: int) -> MeetingAttachment:
    """An attachment for its meeting's managers and audience."""
    row = db.session.get(MeetingAttachment, attachment_id)
    meeting = db.session.get(Meeting, row.meeting_id) if row is not None else None
    if row is None or meeting is None or not (
            officers.may_manage_branch(actor, meeting.organisation) or in_audience(meeting, actor)):
        raise NotFound(_("附件不存在。"))
    return row


def delete_attachment(actor: User, attachment_id: int) -> None:
    row = db.session.get(MeetingAttachment, attachment_id)
    if row is None:
        raise NotFound(_("附件不存在。"))
    meeting = get_meeting(actor, row.meeting_id)
    audit.record(actor, "meeting.attachment_delete", meeting, before={"attachment_id": row.id,
                                                                      "filename": row.filename})
    key = row.storage_key
    db.session.delete(row)
    db.session.commit()
    get_storage().delete(key)


# -- lists and counts -----------------------------------------------------------------------------------------

def _site_range(start: date, end: date) -> tuple[datetime, datetime]:
    # The last days of year 9999 have no next day (nor room for the time zone): the range stops short of them.
    last = date.max - timedelta(days=2)
    start, end = min(start, last), min(end, last)
    return clock.from_site_local(datetime.combine(start, time())), \
        clock.from_site_local(datetime.combine(end + timedelta(days=1), time()))


def meetings_of(org: Organisation, *, start: date | None = None, end: date | None = None,
                status: str | None = None, limit: int = 200) -> list[Meeting]:
    stmt = select(Meeting).where(Meeting.organisation_id == org.id)
    if start is not None and end is not None:
        lo, hi = _site_range(start, end)
        stmt = stmt.where(Meeting.starts_at >= lo, Meeting.starts_at < hi)
    if status is not None:
        stmt = stmt.where(Meeting.status == status)
    return list(db.session.execute(stmt.order_by(Meeting.starts_at.desc()).limit(limit)).scalars())


def upcoming(org: Organisation, limit: int = MEETINGS.upcoming_shown) -> list[Meeting]:
    return list(db.session.execute(select(Meeting).where(
        Meeting.organisation_id == org.id, Meeting.status == "scheduled", Meeting.ends_at >= clock.now_utc())
        .order_by(Meeting.starts_at).limit(limit)).scalars())


def meetings_against_cadence(org: Organisation, start: date, end: date) -> list[dict]:
    """For the subtree of ``org``, per meeting kind with a cadence: meetings held in ``[start, end]`` (site
    dates) against cadence × branches × the period's fraction of a year, and how many branches kept it."""
    lo, hi = _site_range(start, end)
    fraction = ((end - start).days + 1) / 365
    branch_ids = list(db.session.execute(select(Organisation.id).where(
        Organisation.path.startswith(org.path), Organisation.kind == "branch")).scalars())
    subtree = select(Organisation.id).where(Organisation.path.startswith(org.path))
    held_rows = db.session.execute(
        select(Meeting.kind, Meeting.organisation_id, func.count(Meeting.id))
        .where(Meeting.organisation_id.in_(subtree), Meeting.status == "held", Meeting.starts_at >= lo,
               Meeting.starts_at < hi).group_by(Meeting.kind, Meeting.organisation_id)).all()
    branch_set = set(branch_ids)
    out = []
    for code, kind in MEETINGS.kinds.items():
        if kind.per_year is None:
            continue
        each = kind.per_year * fraction
        per_branch = {oid: n for k, oid, n in held_rows if k == code}
        on_cadence = sum(1 for oid in branch_ids if per_branch.get(oid, 0) + 1e-9 >= math.floor(each + 1e-9))
        out.append({"kind": code, "label": str(kind.label), "held": sum(per_branch.values()),
                    "expected": round(each * len(branch_ids)), "branches": len(branch_set),
                    "branches_on_cadence": on_cadence})
    return out


@dataclass(frozen=True)
class MemberStudy:
    user_id: int
    username: str
    name: str
    total_hours: float
    target_hours: float | None
    expected_hours: float
    state: str
    state_label: str
    percent: float


def members_study(org: Organisation) -> list[MemberStudy]:
    """Each current member's hours against the requirement (elearn.ledger.requirements)."""
    out = []
    for user in audience(org):
        st = requirements.status(user)
        out.append(MemberStudy(user_id=user.id, username=user.username, name=user.name,
                               total_hours=st.total_hours, target_hours=st.target_hours,
                               expected_hours=st.expected_hours, state=st.state, state_label=st.state_label,
                               percent=round(st.percent, 1)))
    return out
