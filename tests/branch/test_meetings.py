"""Organisational-life meetings: who may run them, credit exactly once, corrections, check-in, cadence."""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from sqlalchemy import select

from elearn import clock
from elearn.branch import meetings, officers
from elearn.branch.meeting_models import Meeting, MeetingAttachment, MeetingAttendance
from elearn.errors import Forbidden, ServiceError
from elearn.extensions import db as _db
from elearn.ledger import services as ledger
from elearn.ledger.models import StudyCredit
from elearn.notify.models import Notification


@pytest.fixture
def branch_setup(app, db, make_org, make_user, site_clock):
    site_clock.set_site(datetime(2026, 3, 10, 9, 0))
    committee = make_org("党委", kind="committee")
    branch = make_org("一支部", kind="branch", parent=committee)
    other = make_org("二支部", kind="branch", parent=committee)
    admin = make_user("adm", role="org_admin", org=committee)
    sec = make_user("sec", org=branch)
    m1 = make_user("mem1", org=branch)
    m2 = make_user("mem2", org=branch)
    sec2 = make_user("sec2", org=other)
    officers.appoint(admin, branch, sec, "secretary")
    officers.appoint(admin, other, sec2, "secretary")
    return {"committee": committee, "branch": branch, "other": other, "admin": admin, "sec": sec, "m1": m1,
            "m2": m2, "sec2": sec2, "clock": site_clock}


def _local(*args):
    return clock.from_site_local(datetime(*args))


def _lecture(s, kind="lecture", hours=(14, 0, 15, 30)):
    return meetings.create_meeting(s["sec"], s["branch"], kind=kind, title="学习党章", place="会议室",
                                   starts_at=_local(2026, 3, 10, hours[0], hours[1]),
                                   ends_at=_local(2026, 3, 10, hours[2], hours[3]))


def _credits(user):
    return list(_db.session.execute(select(StudyCredit).where(StudyCredit.user_id == user.id)).scalars())


def test_secretary_creates_and_members_are_told_others_may_not(branch_setup):
    s = branch_setup
    meeting = _lecture(s)
    told = _db.session.execute(select(Notification.user_id).where(Notification.kind == "meeting_scheduled")).all()
    assert {u for (u,) in told} == {s["sec"].id, s["m1"].id, s["m2"].id}
    for who in (s["m1"], s["sec2"]):
        with pytest.raises(Forbidden):
            meetings.create_meeting(who, s["branch"], kind="lecture", title="x", starts_at=meeting.starts_at,
                                    ends_at=meeting.ends_at)
    # an ended appointment runs nothing
    officer = next(o for o in officers.current_officers(s["branch"]) if o.user_id == s["sec"].id)
    officers.end_appointment(s["admin"], officer.id)
    with pytest.raises(Forbidden):
        meetings.create_meeting(s["sec"], s["branch"], kind="lecture", title="x", starts_at=meeting.starts_at,
                                ends_at=meeting.ends_at)
    assert _db.session.execute(select(Meeting)).scalars().all() == [meeting]


def test_lecture_credits_present_members_once_and_corrects_a_changed_mark(branch_setup):
    s = branch_setup
    meeting = _lecture(s)  # 90 minutes = 2 学时 at 45 min each
    s["clock"].set_site(datetime(2026, 3, 10, 15, 40))
    meetings.mark_attendance(s["sec"], meeting, {s["m1"].id: ("present", ""), s["m2"].id: ("excused", "出差")})
    meetings.hold_meeting(s["sec"], meeting)
    meetings.hold_meeting(s["sec"], meeting)  # again: nothing more
    meetings.mark_attendance(s["sec"], meeting, {s["m1"].id: ("present", "")})
    assert [c.hours for c in _credits(s["m1"])] == [2.0]
    assert _credits(s["m2"]) == []
    assert ledger.total_hours(s["m1"]) == 2.0

    meetings.mark_attendance(s["sec"], meeting, {s["m1"].id: ("absent", "")})
    assert ledger.total_hours(s["m1"]) == 0.0
    assert sorted(c.kind for c in _credits(s["m1"])) == ["correction", "meeting"]
    meetings.mark_attendance(s["sec"], meeting, {s["m1"].id: ("present", ""), s["m2"].id: ("present", "")})
    assert ledger.total_hours(s["m1"]) == 2.0
    assert ledger.total_hours(s["m2"]) == 2.0


def test_committee_meeting_records_only(branch_setup):
    s = branch_setup
    meeting = _lecture(s, kind="committee")
    s["clock"].set_site(datetime(2026, 3, 10, 16, 0))
    meetings.mark_attendance(s["sec"], meeting, {s["m1"].id: ("present", "")})
    meetings.hold_meeting(s["sec"], meeting)
    assert _credits(s["m1"]) == []


def test_bad_input_changes_nothing(branch_setup):
    s = branch_setup
    with pytest.raises(ServiceError):
        meetings.create_meeting(s["sec"], s["branch"], kind="lecture", title="x", starts_at=_local(2026, 3, 10, 15),
                                ends_at=_local(2026, 3, 10, 14))
    with pytest.raises(ServiceError):
        meetings.create_meeting(s["sec"], s["branch"], kind="nope", title="x", starts_at=_local(2026, 3, 10, 14),
                                ends_at=_local(2026, 3, 10, 15))
    assert _db.session.execute(select(Meeting)).first() is None
    meeting = _lecture(s)
    with pytest.raises(ServiceError):  # one outsider spoils the whole batch
        meetings.mark_attendance(s["sec"], meeting, {s["m1"].id: ("present", ""), s["sec2"].id: ("present", "")})
    with pytest.raises(ServiceError):
        meetings.mark_attendance(s["sec"], meeting, {s["m1"].id: ("excused", " ")})
    assert _db.session.execute(select(MeetingAttendance)).first() is None


def test_checkin_window_audience_and_idempotence(branch_setup):
    s = branch_setup
    meeting = _lecture(s)
    opens, closes = meetings.checkin_window(meeting)
    assert opens == _local(2026, 3, 10, 13, 30) and closes == meeting.ends_at
    with pytest.raises(ServiceError):
        meetings.record_checkin(meeting, s["m1"], _local(2026, 3, 10, 13, 0))
    with pytest.raises(ServiceError):
        meetings.record_checkin(meeting, s["sec2"], _local(2026, 3, 10, 14, 5))
    assert not meetings.in_audience(meeting, s["sec2"]) and meetings.in_audience(meeting, s["m1"])
    first = meetings.record_checkin(meeting, s["m1"], _local(2026, 3, 10, 14, 5))
    again = meetings.record_checkin(meeting, s["m1"], _local(2026, 3, 10, 14, 9))
    assert first.id == again.id and again.method == "checkin" and again.marked_at == _local(2026, 3, 10, 14, 5)
    s["clock"].set_site(datetime(2026, 3, 10, 15, 40))
    meetings.hold_meeting(s["sec"], meeting)
    assert ledger.total_hours(s["m1"]) == 2.0


def test_fake_jpeg_is_refused_and_real_files_are_kept(branch_setup):
    s = branch_setup
    meeting = _lecture(s)
    with pytest.raises(ServiceError):
        meetings.add_attachment(s["sec"], meeting, "photo.jpg", io.BytesIO(b"MZ\x90\x00 not a jpeg at all"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(ServiceError):  # a zip is not a document
        meetings.add_attachment(s["sec"], meeting, "a.zip", io.BytesIO(b"PK\x03\x04garbage"))
    assert _db.session.execute(select(MeetingAttachment)).first() is None
    doc = meetings.add_attachment(s["sec"], meeting, "纪要.docx", io.BytesIO(buf.getvalue()))
    jpeg = meetings.add_attachment(s["sec"], meeting, "合影.jpg", io.BytesIO(b"\xff\xd8\xff\xe0" + b"\0" * 100))
    assert (doc.content_type.endswith("document"), jpeg.content_type) == (True, "image/jpeg")
    with pytest.raises(Forbidden):
        meetings.add_attachment(s["sec2"], meeting, "x.jpg", io.BytesIO(b"\xff\xd8\xff\xe0"))


def test_meetings_against_cadence(branch_setup):
    s = branch_setup
    for month in (1, 2, 3):
        m = meetings.create_meeting(s["sec"], s["branch"], kind="committee", title=f"{month}月支委会",
                                    starts_at=_local(2026, month, 5, 9), ends_at=_local(2026, month, 5, 10))
        meetings.hold_meeting(s["sec"], m)
    cancelled = meetings.create_meeting(s["sec2"], s["other"], kind="committee", title="x",
                                        starts_at=_local(2026, 3, 20, 9), ends_at=_local(2026, 3, 20, 10))
    meetings.cancel_meeting(s["sec2"], cancelled)
    rows = {r["kind"]: r for r in meetings.meetings_against_cadence(s["committee"], date(2026, 1, 1),
                                                                    date(2026, 3, 31))}
    c = rows["committee"]
    assert (c["held"], c["expected"], c["branches"], c["branches_on_cadence"]) == (3, 6, 2, 1)
    assert rows["lecture"]["held"] == 0 and rows["lecture"]["expected"] == 2
    assert "talk" not in rows
    year = {r["kind"]: r for r in meetings.meetings_against_cadence(s["branch"], date(2026, 1, 1),
                                                                    date(2026, 12, 31))}
    assert year["committee"]["expected"] == 12 and year["committee"]["branches"] == 1
