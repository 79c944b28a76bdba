"""Group sessions live in site time: what the form says is when the session is, attendance opens then (not
eight hours later, as when a Beijing time from the form was compared with UTC), and the credit is dated the
site's day — checked late in the evening and just after midnight."""
from datetime import date, datetime

import pytest

from elearn.ledger import services as ledger
from elearn.training.models import GroupSession


@pytest.fixture
def s(make_org, make_user, make_course, make_lesson):
    town = make_org("镇党委")
    branch = make_org("东村支部", kind="branch", parent=town)
    return {"branch": branch, "admin": make_user("townadmin", org=town, role="org_admin"),
            "member": make_user("mem1", org=branch, name="李党员"),
            "lesson": make_lesson(course=make_course(status="approved"), duration=2700)}


def _schedule(client, s, local: str):
    r = client.post("/training/group/new", data={"organisation_id": s["branch"].id, "lesson_id": s["lesson"].id,
                                                 "scheduled_at": local, "location": "党员活动室"})
    assert r.status_code == 302, r.get_data(as_text=True)
    return r.headers["Location"]


@pytest.mark.parametrize("now, starts, day", [
    (datetime(2026, 5, 1, 23, 30), "2026-05-01T23:20", date(2026, 5, 1)),  # 15:30 UTC
    (datetime(2026, 5, 2, 0, 30), "2026-05-02T00:10", date(2026, 5, 2)),  # 16:30 UTC, still May 1st there
])
def test_attendance_opens_when_the_session_starts_in_site_time(client, auth, s, site_clock, now, starts, day):
    site_clock.set_site(now)
    auth.login("townadmin")
    url = _schedule(client, s, starts)
    page = client.get(url).get_data(as_text=True)
    assert starts.replace("T", " ") in page  # shown as it was entered
    r = client.post(url, data={"present": [str(s["member"].id)]})
    assert r.status_code == 302, r.get_data(as_text=True)
    entry = ledger.entries(s["member"])[0]
    assert entry.kind == "group" and entry.credited_on == day


def test_a_session_later_today_is_not_open_yet(client, auth, s, site_clock):
    site_clock.set_site(datetime(2026, 5, 2, 0, 30))
    auth.login("townadmin")
    url = _schedule(client, s, "2026-05-02T01:30")
    r = client.post(url, data={"present": [str(s["member"].id)]})
    assert r.status_code == 400 and "培训尚未开始" in r.get_data(as_text=True)
    assert ledger.entries(s["member"]) == []
    site_clock.advance(3600)
    assert client.post(url, data={"present": [str(s["member"].id)]}).status_code == 302


def test_the_stored_time_is_utc(client, auth, s, site_clock, db):
    site_clock.set_site(datetime(2026, 5, 2, 0, 30))
    auth.login("townadmin")
    _schedule(client, s, "2026-05-02T00:10")
    session = db.session.query(GroupSession).one()
    assert session.scheduled_at == datetime(2026, 5, 1, 16, 10)
