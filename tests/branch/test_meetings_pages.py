"""The secretary's pages and the meetings API, through the paths a user takes."""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from sqlalchemy import func, select

from elearn.branch import meetings, officers
from elearn.branch.meeting_models import Meeting, MeetingAttachment, MeetingAttendance
from elearn.extensions import db as _db
from elearn.ledger import services as ledger
from tests.api.conftest import bearer


@pytest.fixture
def s(app, db, make_org, make_user, site_clock):
    site_clock.set_site(datetime(2026, 5, 6, 9, 0))
    committee = make_org("县委", kind="committee")
    branch = make_org("一支部", kind="branch", parent=committee)
    other = make_org("二支部", kind="branch", parent=committee)
    admin = make_user("admin1", role="org_admin", org=committee)
    sec = make_user("sec1", org=branch)
    member = make_user("member1", org=branch, name="张三")
    sec2 = make_user("sec2", org=other)
    officers.appoint(admin, branch, sec, "secretary")
    officers.appoint(admin, other, sec2, "secretary")
    return type("S", (), {"committee": committee, "branch": branch, "other": other, "admin": admin, "sec": sec,
                          "member": member, "sec2": sec2, "clock": site_clock})


def _count(model):
    return _db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _new(client, s, **over):
    data = {"kind": "lecture", "title": "学习二十大精神", "starts_at": "2026-05-06T14:00",
            "ends_at": "2026-05-06T15:30", "place": "会议室", "online_url": "", "host_id": "0",
            "lecturer_id": "", "agenda": "一、学习\n二、讨论"}
    data.update(over)
    return client.post(f"/branch/{s.branch.id}/meetings/new", data=data)


def test_nav_and_index_only_for_those_who_run_a_branch(client, auth, s):
    auth.login("member1")
    assert "支部工作" not in client.get("/").get_data(as_text=True)
    assert client.get("/branch/").status_code == 403
    assert client.get(f"/branch/{s.branch.id}").status_code == 404
    auth.logout()
    auth.login("sec1")
    assert "支部工作" in client.get("/").get_data(as_text=True)
    r = client.get("/branch/")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/branch/{s.branch.id}")
    page = client.get(f"/branch/{s.branch.id}").get_data(as_text=True)
    assert "张三" in page and "支部委员会" in page
    # the branch's month is reached from its dashboard: a lecture to record, birthdays, the evaluation report
    for link in (f"/lectures/new/{s.branch.id}", f"/branch/{s.branch.id}/birthdays",
                 f"/analytics/evaluation?org={s.branch.id}"):
        assert f'href="{link}"' in page, link
        assert client.get(link).status_code == 200, link
    assert client.get(f"/branch/{s.other.id}").status_code == 404  # another branch


def test_secretary_runs_a_lecture_from_the_pages(client, auth, s):
    auth.login("sec1")
    r = _new(client, s)
    assert r.status_code == 302
    meeting = _db.session.execute(select(Meeting)).scalar_one()
    page = client.get(f"/branch/meetings/{meeting.id}").get_data(as_text=True)
    host = f"/checkin/host/meeting/{meeting.id}"
    assert f'href="{host}"' in page and client.get(host).status_code == 200  # the QR screen, one tap away
    s.clock.set_site(datetime(2026, 5, 6, 15, 40))
    r = client.post(f"/branch/meetings/{meeting.id}/attendance",
                    data={f"status-{s.member.id}": "present", f"status-{s.sec.id}": "excused",
                          f"reason-{s.sec.id}": "出差"})
    assert r.status_code == 302
    r = client.post(f"/branch/meetings/{meeting.id}/minutes",
                    data={"minutes": "<p>讨论热烈</p><script>alert(1)</script>"})
    assert r.status_code == 302
    assert client.post(f"/branch/meetings/{meeting.id}/hold").status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Meeting, meeting.id).minutes == "<p>讨论热烈</p>"
    assert ledger.total_hours(s.member) == 2.0 and ledger.total_hours(s.sec) == 0.0
    # the member sees it from the notification's link
    auth.logout()
    auth.login("member1")
    assert "出席" in client.get(f"/branch/meetings/{meeting.id}/mine").get_data(as_text=True)
    assert client.get(f"/branch/meetings/{meeting.id}").status_code == 404


@pytest.mark.parametrize("over", [
    {"starts_at": "2026-13-45T99:00"},  # malformed date
    {"starts_at": "2026-05-06T16:00"},  # ends before it starts
    {"lecturer_id": "99999999999999999999"},  # a huge number
    {"kind": "party"},
    {"title": ""},
    {"online_url": "javascript:alert(1)"},
    {"starts_at": "9999-05-06T14:00", "ends_at": "9999-05-06T15:00"},
])
def test_bad_meeting_input_is_a_clear_message_and_changes_nothing(client, auth, s, over):
    auth.login("sec1")
    r = _new(client, s, **over)
    assert r.status_code == 400
    assert 'class="error"' in r.get_data(as_text=True) or "flash-error" in r.get_data(as_text=True)
    assert _count(Meeting) == 0


def test_bad_attendance_and_fake_jpeg_change_nothing(client, auth, s):
    meeting = meetings.create_meeting(s.sec, s.branch, kind="committee", title="支委会",
                                      starts_at=datetime(2026, 5, 6, 6), ends_at=datetime(2026, 5, 6, 7))
    auth.login("sec1")
    r = client.post(f"/branch/meetings/{meeting.id}/attendance",
                    data={f"status-{s.member.id}": "excused", f"reason-{s.member.id}": ""})
    assert r.status_code == 400 and "请假须填写原因" in r.get_data(as_text=True)
    r = client.post(f"/branch/meetings/{meeting.id}/attendance", data={f"status-{s.sec2.id}": "present"})
    assert r.status_code == 400
    assert _count(MeetingAttendance) == 0
    fake = (io.BytesIO(b"GIF89a not really a jpeg"), "photo.jpg")
    r = client.post(f"/branch/meetings/{meeting.id}/attachments", data={"file": fake},
                    content_type="multipart/form-data", headers={"X-Requested-With": "XMLHttpRequest"})
    assert r.status_code == 400 and "JPEG" in r.get_json()["error"]["message"]
    assert _count(MeetingAttachment) == 0
    png = (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 64), "合影.png")
    r = client.post(f"/branch/meetings/{meeting.id}/attachments", data={"file": png},
                    content_type="multipart/form-data", headers={"X-Requested-With": "XMLHttpRequest"})
    # the script goes to a URL of its own (not only a #fragment, which would not reload the page)
    assert r.status_code == 200 and "?uploaded=" in r.get_json()["redirect"]
    row = _db.session.execute(select(MeetingAttachment)).scalar_one()
    got = client.get(f"/branch/attachments/{row.id}")
    assert got.status_code == 200 and got.data.startswith(b"\x89PNG")
    got.close()
    auth.logout()
    auth.login("sec2")
    assert client.get(f"/branch/attachments/{row.id}").status_code == 404
    assert client.post(f"/branch/meetings/{meeting.id}/hold").status_code == 404


def test_admin_appoints_and_ends_a_secretary_and_the_ended_one_loses_the_pages(client, auth, s, make_user):
    deputy = make_user("deputy1", org=s.branch)
    auth.login("admin1")
    r = client.post(f"/branch/{s.branch.id}/officers", data={"user_id": str(deputy.id), "post": "deputy"})
    assert r.status_code == 302
    assert officers.may_manage_branch(deputy, s.branch)
    officer = next(o for o in officers.current_officers(s.branch) if o.user_id == s.sec.id)
    assert client.post(f"/branch/officers/{officer.id}/end").status_code == 302
    auth.logout()
    auth.login("sec1")
    assert client.get(f"/branch/{s.branch.id}").status_code == 404
    assert client.post(f"/branch/{s.branch.id}/officers",
                       data={"user_id": str(s.sec.id), "post": "secretary"}).status_code == 404


def test_secretary_schedules_a_group_session_of_their_branch_only(client, auth, s, make_course, make_lesson):
    lesson = make_lesson(course=make_course(), duration=2700)
    auth.login("sec1")
    page = client.get(f"/training/group/new?org={s.branch.id}").get_data(as_text=True)
    assert s.other.name not in page
    r = client.post("/training/group/new", data={"organisation_id": str(s.other.id), "lesson_id": str(lesson.id),
                                                 "scheduled_at": "2026-05-06T10:00", "location": ""})
    assert r.status_code == 400
    r = client.post("/training/group/new", data={"organisation_id": str(s.branch.id), "lesson_id": str(lesson.id),
                                                 "scheduled_at": "2026-05-06T08:00", "location": "活动室"})
    assert r.status_code == 302
    session_url = r.headers["Location"]
    r = client.post(session_url, data={"present": [str(s.member.id)]})
    assert r.status_code == 302
    assert ledger.total_hours(s.member) == 1.0


def test_cadence_page_and_api(client, auth, s):
    m = meetings.create_meeting(s.sec, s.branch, kind="committee", title="支委会",
                                starts_at=datetime(2026, 1, 6, 6), ends_at=datetime(2026, 1, 6, 7))
    meetings.hold_meeting(s.sec, m)
    auth.login("admin1")
    assert "支部委员会" in client.get(f"/branch/cadence/{s.committee.id}").get_data(as_text=True)
    r = client.get(f"/api/v1/branch/cadence?org={s.committee.id}&start=2026-01-01&end=2026-12-31")
    rows = {row["kind"]: row for row in r.get_json()["items"]}
    assert rows["committee"] == {"kind": "committee", "label": "支部委员会", "held": 1, "expected": 24,
                                 "branches": 2, "branches_on_cadence": 0}
    assert client.get(f"/api/v1/branch/cadence?org={s.committee.id}&start=2026-12-01&end=2026-01-01"
                      ).status_code == 400
    auth.logout()
    auth.login("sec1")
    assert client.get(f"/api/v1/branch/cadence?org={s.committee.id}&start=2026-01-01&end=2026-12-31"
                      ).status_code == 404


def test_meetings_api(client, auth, s):
    # a secretary is a member: a read/study token runs their branch (the admin scope is for admins only)
    h = bearer(s.sec, "read,study")
    body = {"organisation_id": s.branch.id, "kind": "lecture", "title": "党课", "starts_at": "2026-05-06T14:00:00",
            "ends_at": "2026-05-06T14:45:00"}
    r = client.post("/api/v1/branch/meetings", json=body, headers=h)
    assert r.status_code == 200, r.get_json()
    mid = r.get_json()["id"]
    for change, status in (({"kind": "x"}, 400), ({"organisation_id": s.other.id}, 404),
                           ({"organisation_id": 10**30}, 400), ({"starts_at": "2026-02-30T14:00:00"}, 400)):
        assert client.post("/api/v1/branch/meetings", json={**body, **change}, headers=h).status_code == status
    assert _count(Meeting) == 1
    r = client.put(f"/api/v1/branch/meetings/{mid}/attendance",
                   json={"marks": [{"user_id": s.member.id, "status": "present"}]}, headers=h)
    assert r.get_json() == {"changed": 1}
    s.clock.set_site(datetime(2026, 5, 6, 15, 0))
    r = client.post(f"/api/v1/branch/meetings/{mid}/hold", headers=h)
    assert r.get_json()["status"] == "held"
    assert r.get_json()["attendance"][0]["credited"] is True
    assert ledger.total_hours(s.member) == 1.0
    listed = client.get(f"/api/v1/branch/meetings?org={s.branch.id}&year=2026", headers=h).get_json()["items"]
    assert [m["id"] for m in listed] == [mid]
    # the last year the schema takes has no day after its end (found by the API fuzzer: a 500 before)
    far = client.get(f"/api/v1/branch/meetings?org={s.branch.id}&year=9999", headers=h)
    assert far.status_code == 200 and far.get_json()["items"] == []
    hm = bearer(s.member, "read,study")
    assert client.get(f"/api/v1/branch/meetings/{mid}", headers=hm).status_code == 404
    assert client.get(f"/api/v1/branch/meetings?org={s.branch.id}", headers=hm).status_code == 404
    r = client.put(f"/api/v1/branch/meetings/{mid}/attendance", headers=hm,
                   json={"marks": [{"user_id": s.member.id, "status": "absent"}]})
    assert r.status_code == 404 and ledger.total_hours(s.member) == 1.0
