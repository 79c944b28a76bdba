"""Check-in by rotating code, through the pages and the API a member and a host use, and an adversary's script:
codes replayed after a minute, a code of one session used on another, a non-member, outside the window, the
same member on two devices at once, guessing short codes."""
from __future__ import annotations

import re
import threading
from datetime import datetime

import pytest
from sqlalchemy import func, select

from elearn import clock
from elearn.audit.models import AuditEntry
from elearn.auth import tokens
from elearn.branch import checkin, officers
from elearn.branch.checkin import GROUP_SESSION, SHORT_ALPHABET
from elearn.extensions import db
from elearn.ledger import services as ledger
from elearn.policy import CHECKIN
from elearn.training import services as training
from elearn.training.models import GroupAttendance
from tests.conftest import PASSWORD

START = datetime(2026, 5, 20, 19, 0)  # site time


@pytest.fixture
def s(make_org, make_user, make_course, make_lesson, site_clock):
    site_clock.set_site(START)
    committee = make_org("镇党委")
    branch = make_org("东村支部", kind="branch", parent=committee)
    other = make_org("西村支部", kind="branch", parent=committee)
    admin = make_user("townadmin", org=committee, role="org_admin")
    secretary = make_user("sec", org=branch, name="王书记")
    officers.appoint(admin, branch, secretary, "secretary")
    lesson = make_lesson(course=make_course(theory=True), duration=2700)
    at = clock.from_site_local(START)
    return {
        "branch": branch, "admin": admin, "secretary": secretary,
        "member": make_user("mem", org=branch, name="李党员"),
        "second": make_user("mem2", org=branch, name="张党员"),
        "outsider": make_user("out", org=other, name="外人"),
        "a": training.schedule_group_session(admin, organisation=branch, lesson=lesson, scheduled_at=at),
        "b": training.schedule_group_session(admin, organisation=branch, lesson=lesson, scheduled_at=at),
    }


def _shown(client, auth, host, target):
    """The host screen's current code (the client signs in as the host and out again)."""
    auth.logout()
    auth.login(host.username)
    kind = "meeting" if type(target).__name__ == "Meeting" else "group_session"
    r = client.get(f"/checkin/host/{kind}/{target.id}/code")
    assert r.status_code == 200, r.get_data(as_text=True)
    auth.logout()
    return r.get_json()


def _token(data):
    return data["url"].rsplit("/c/", 1)[1]


def test_host_screen_is_for_those_who_run_the_branch(client, auth, s):
    auth.login(s["member"].username)
    assert client.get(f"/checkin/host/group_session/{s['a'].id}").status_code == 403
    assert client.get(f"/checkin/host/group_session/{s['a'].id}/code").status_code == 403
    auth.logout()
    auth.login(s["secretary"].username)
    page = client.get(f"/checkin/host/group_session/{s['a'].id}")
    assert page.status_code == 200 and "checkin-host.js" in page.get_data(as_text=True)
    assert client.get("/checkin/host/nothing/1").status_code == 404
    assert client.get("/checkin/host/group_session/999999").status_code == 404
    data = client.get(f"/checkin/host/group_session/{s['a'].id}/code").get_json()
    assert data["svg"].startswith("<svg") and data["count"] == 0
    assert len(data["short"]) == CHECKIN.short_code_length and set(data["short"]) <= set(SHORT_ALPHABET)
    assert not set(data["short"]) & set("0O1I")
    assert re.search(r"/c/g\d+-[a-z2-7]+$", data["url"])
    auth.logout()
    auth.login(s["admin"].username)  # the session's attendance page leads to the host screen
    group_page = client.get(f"/training/group/{s['a'].id}").get_data(as_text=True)
    assert f"/checkin/host/group_session/{s['a'].id}" in group_page


def test_scan_checks_in_once_credits_and_keeps_the_evidence(client, auth, s, site_clock):
    data = _shown(client, auth, s["secretary"], s["a"])
    auth.login(s["member"].username)
    r = client.get(f"/c/{_token(data)}", headers={"User-Agent": "PhoneBrowser/1.0"},
                   environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert r.status_code == 200 and "签到成功" in r.get_data(as_text=True)
    assert ledger.total_hours(s["member"]) == 1.0  # 45 minutes of lesson, credited as when an admin ticks
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "group.checkin")).scalar_one()
    assert entry.after["ip"] == "10.0.0.7" and entry.after["user_agent"] == "PhoneBrowser/1.0"
    site_clock.advance(120)
    again = client.post("/checkin", data={"code": _shown(client, auth, s["secretary"], s["a"])["short"]})
    assert again.status_code == 302  # signed out: the form needs a signed-in member
    data = _shown(client, auth, s["secretary"], s["a"])
    auth.login(s["member"].username)
    again = client.post("/checkin", data={"code": data["short"].lower()})
    assert again.status_code == 200 and "已经签到" in again.get_data(as_text=True)
    assert "19:00" in again.get_data(as_text=True)  # the first check-in's time, in site time
    assert db.session.execute(select(func.count()).select_from(GroupAttendance)).scalar_one() == 1
    assert ledger.total_hours(s["member"]) == 1.0
    host = _shown(client, auth, s["secretary"], s["a"])
    assert host["count"] == 1 and host["present"][0]["name"] == "李党员"


def test_a_code_is_refused_a_minute_later_and_on_another_session(client, auth, s, site_clock):
    data = _shown(client, auth, s["secretary"], s["a"])
    token = _token(data)
    auth.login(s["member"].username)
    site_clock.advance(CHECKIN.step_s * 2)  # two steps on: neither the current nor the previous one
    r = client.get(f"/c/{token}")
    assert r.status_code == 400 and "已过期" in r.get_data(as_text=True)
    r = client.post("/checkin", data={"code": data["short"]})
    assert r.status_code == 400
    fresh = _shown(client, auth, s["secretary"], s["a"])
    auth.login(s["member"].username)
    forged = _token(fresh).replace(f"g{s['a'].id}-", f"g{s['b'].id}-")
    assert client.get(f"/c/{forged}").status_code == 400
    assert client.get("/c/x1-abc").status_code == 400 and client.get("/c/g-").status_code == 400
    assert training.group_attendance_of(s["b"], s["member"]) is None
    assert training.group_attendance_of(s["a"], s["member"]) is None
    site_clock.advance(CHECKIN.step_s - 1)  # the previous step's code is still good
    assert "签到成功" in client.get(f"/c/{_token(fresh)}").get_data(as_text=True)
    assert training.group_attendance_of(s["a"], s["member"]) is not None
    assert training.group_attendance_of(s["b"], s["member"]) is None


def test_non_member_and_outside_the_window_are_refused(client, auth, s, site_clock):
    data = _shown(client, auth, s["secretary"], s["a"])
    auth.login(s["outsider"].username)
    r = client.get(f"/c/{_token(data)}")
    assert r.status_code == 403 and "参加范围" in r.get_data(as_text=True)
    auth.logout()

    site_clock.set_site(datetime(2026, 5, 20, 18, 30))  # 30 minutes early (opens 15 minutes before)
    data = _shown(client, auth, s["secretary"], s["a"])
    auth.login(s["member"].username)
    r = client.get(f"/c/{_token(data)}")
    assert r.status_code == 409 and "尚未开始" in r.get_data(as_text=True) and "18:45" in r.get_data(as_text=True)

    site_clock.set_site(datetime(2026, 5, 20, 20, 16))  # 45-minute lesson + 30 minutes: closed at 20:15
    data = _shown(client, auth, s["secretary"], s["a"])
    auth.login(s["member"].username)
    r = client.get(f"/c/{_token(data)}")
    assert r.status_code == 409 and "已经结束" in r.get_data(as_text=True)
    assert ledger.total_hours(s["member"]) == 0


def test_signed_out_scan_signs_in_and_comes_back_to_the_check_in(client, auth, s, site_clock):
    data = _shown(client, auth, s["secretary"], s["a"])
    r = client.get(f"/c/{_token(data)}")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    site_clock.advance(CHECKIN.step_s * 3)  # signing in took a while: the scan's moment counts
    login = client.post(r.headers["Location"], data={"username": "mem", "password": PASSWORD})
    assert login.status_code == 302 and f"/c/{_token(data)}" in login.headers["Location"]
    done = client.get(login.headers["Location"])
    assert "签到成功" in done.get_data(as_text=True)


def test_api_check_in_with_a_study_token(client, auth, s):
    data = _shown(client, auth, s["secretary"], s["a"])
    headers = {"Authorization": f"Bearer {tokens.issue(s['member'], 'phone', scopes='study')}"}
    r = client.post("/api/v1/checkin", json={"code": data["short"]}, headers=headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["kind"] == "group_session" and body["target_id"] == s["a"].id and body["already"] is False
    again = client.post("/api/v1/checkin", json={"code": _token(data)}, headers=headers)
    assert again.get_json()["already"] is True
    assert client.post("/api/v1/checkin", json={"code": ""}, headers=headers).status_code == 400
    assert client.post("/api/v1/checkin", json={"nope": 1}, headers=headers).status_code == 400
    wrong = client.post("/api/v1/checkin", json={"code": "ZZZZZZ"}, headers=headers)
    assert wrong.status_code == 400 and wrong.get_json()["error"]["code"] == "bad_code"
    reader = {"Authorization": f"Bearer {tokens.issue(s['second'], 'r', scopes='read')}"}
    assert client.post("/api/v1/checkin", json={"code": data["short"]}, headers=reader).status_code == 403


def test_two_devices_at_once_make_one_attendance(app, client, auth, s):
    data = _shown(client, auth, s["secretary"], s["a"])
    phones = [app.test_client() for _i in range(2)]
    for phone in phones:
        phone.post("/auth/login", data={"username": "mem", "password": PASSWORD})
    results: list[str] = []
    barrier = threading.Barrier(2)

    def scan(phone):
        barrier.wait()
        results.append(phone.get(f"/c/{_token(data)}").get_data(as_text=True))

    threads = [threading.Thread(target=scan, args=(p,)) for p in phones]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted("签到成功" in r for r in results) == [False, True]
    assert any("已经签到" in r for r in results)
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(GroupAttendance)).scalar_one() == 1
    assert ledger.total_hours(s["member"]) == 1.0


class TestGuessing:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True}

    def test_guessing_short_codes_is_rate_limited(self, client, auth, s):
        data = _shown(client, auth, s["secretary"], s["a"])
        auth.login(s["member"].username)
        per_minute = int(CHECKIN.limit_per_user.split()[0])
        wrong = "".join(SHORT_ALPHABET[(SHORT_ALPHABET.index(c) + 1) % 32] for c in data["short"])
        for _i in range(per_minute):
            assert client.post("/checkin", data={"code": wrong}).status_code == 400
        # Beyond the limit even the right code is not looked at, from another address too.
        r = client.post("/checkin", data={"code": data["short"]}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert r.status_code == 429
        assert training.group_attendance_of(s["a"], s["member"]) is None


def test_registry_and_code_shapes(app, s):
    assert checkin.kind_of("group_session") is GROUP_SESSION
    step = checkin.step_at(datetime(2026, 1, 1))
    assert checkin.short_for(GROUP_SESSION, 1, step) != checkin.short_for(GROUP_SESSION, 2, step)
    assert checkin.short_for(GROUP_SESSION, 1, step) != checkin.short_for(GROUP_SESSION, 1, step + 1)
    assert checkin.normalised_short(" ab-cd ef ") == "ABCDEF"


def test_a_branch_meeting_checks_in_through_the_meetings_service(client, auth, s):
    from datetime import timedelta

    from elearn.branch import meetings

    at = clock.from_site_local(START)
    meeting = meetings.create_meeting(s["secretary"], s["branch"], kind="lecture", title="学习党章", place="会议室",
                                      starts_at=at, ends_at=at + timedelta(hours=1))
    auth.login(s["secretary"].username)
    assert "学习党章" in client.get(f"/checkin/host/meeting/{meeting.id}").get_data(as_text=True)
    data = _shown(client, auth, s["secretary"], meeting)
    assert "/c/m" in data["url"]
    auth.login(s["member"].username)
    forged = _token(data).replace(f"m{meeting.id}-", f"g{s['a'].id}-")
    assert client.get(f"/c/{forged}").status_code == 400
    r = client.post("/checkin", data={"code": data["short"]})
    assert r.status_code == 200 and "签到成功" in r.get_data(as_text=True)
    row = meetings.attendance_of(meeting)[s["member"].id]
    assert row.status == "present" and row.method == "checkin"
    assert "已经签到" in client.get(f"/c/{_token(data)}").get_data(as_text=True)
    assert training.group_attendance_of(s["a"], s["member"]) is None
    auth.logout()
    auth.login(s["outsider"].username)
    assert client.get(f"/c/{_token(data)}").status_code == 403


class TestGuessingThroughTheApi:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True}

    def test_the_api_limits_refused_codes_too(self, client, auth, s):
        data = _shown(client, auth, s["secretary"], s["a"])
        headers = {"Authorization": f"Bearer {tokens.issue(s['member'], 'phone', scopes='study')}"}
        for _i in range(3):  # successful check-ins (the first and the "already" ones) never count
            assert client.post("/api/v1/checkin", json={"code": data["short"]}, headers=headers).status_code == 200
        per_minute = int(CHECKIN.limit_per_user.split()[0])
        for _i in range(per_minute):
            assert client.post("/api/v1/checkin", json={"code": "ZZZZZZ"}, headers=headers).status_code == 400
        r = client.post("/api/v1/checkin", json={"code": "ZZZZZZ"}, headers=headers)
        assert r.status_code == 429 and r.get_json()["error"]["code"]


def test_the_hourly_job_forgets_the_codes_no_check_in_accepts(client, auth, s, site_clock):
    """A host screen shown through an hour leaves a row per step; the job keeps those of the current and the
    previous step (a member may still be typing one) and drops the rest."""
    from elearn.branch import tasks
    from elearn.branch.checkin_models import CheckinCode

    for _step in range(3600 // CHECKIN.step_s):
        _shown(client, auth, s["secretary"], s["a"])
        site_clock.advance(CHECKIN.step_s)
    latest = _shown(client, auth, s["secretary"], s["a"])
    site_clock.advance(CHECKIN.step_s)  # the next step: the latest code is the previous one, still accepted
    assert checkin.step_at(clock.now_utc()) == latest["step"] + 1
    shown = db.session.execute(select(func.count()).select_from(CheckinCode)).scalar_one()
    assert shown == 3600 // CHECKIN.step_s + 1
    tasks.prune_checkin_codes.enqueue()
    assert db.session.execute(select(CheckinCode.step)).scalars().all() == [latest["step"]]
    auth.login(s["member"].username)
    assert "签到成功" in client.post("/checkin", data={"code": latest["short"]},
                                      follow_redirects=True).get_data(as_text=True)
