"""Offline/off-job training records and video group sessions: services and org-admin pages."""
from datetime import date, datetime, timedelta

import pytest

from elearn import clock
from elearn.errors import Forbidden, ServiceError
from elearn.ledger import requirements
from elearn.ledger import services as ledger
from elearn.training import services as offline


@pytest.fixture
def s(make_org, make_user, make_course, make_lesson):
    county = make_org("县委", county=True)
    town = make_org("镇党委", parent=county)
    branch = make_org("东村支部", kind="branch", parent=town)
    other = make_org("外县")
    course = make_course(theory=True)
    return {
        "town": town, "branch": branch, "other": other,
        "admin": make_user("townadmin", org=town, role="org_admin"),
        "sec": make_user("sec1", org=branch, category="branch_secretary", name="王书记"),
        "member": make_user("mem1", org=branch, name="李党员"),
        "outsider": make_user("out1", org=other, name="外人"),
        "lesson": make_lesson(course=course, duration=2700),
    }


def _record(s, attendees, **kw):
    args = dict(organisation=s["town"], title="书记脱产培训班", organiser="县委组织部", organiser_level="county_above",
                offjob=True, category="political_theory", innovative_theory=True, starts_on=date(2025, 4, 1),
                ends_on=date(2025, 4, 5), days=5, attendees=attendees)
    args.update(kw)
    return offline.record_training(s["admin"], **args)


def test_days_are_credited_as_8_hours_and_count_for_the_secretary(s):
    _record(s, [s["sec"], s["member"]])
    assert ledger.total_hours(s["sec"]) == 40
    entry = ledger.entries(s["sec"])[0]
    assert entry.offjob and entry.county_level and entry.credited_on == date(2025, 4, 5)
    st = requirements.status(s["sec"], today=date(2025, 12, 1))
    assert {y.year: y.offjob_met for y in st.years}[2025] is True


def test_below_county_training_does_not_count_as_county_offjob(s):
    _record(s, [s["sec"]], organiser_level="below_county", organiser="镇党委")
    st = requirements.status(s["sec"], today=date(2025, 12, 1))
    assert {y.year: y.offjob_county_hours for y in st.years}[2025] == 0


@pytest.mark.parametrize("changes", [
    {"days": None, "hours": None}, {"days": 2, "hours": 16}, {"ends_on": date(2025, 3, 1)},
    {"days": 10}, {"organiser_level": "galaxy"}, {"title": " "}, {"ends_on": clock.site_today() + timedelta(days=3)},
])
def test_invalid_records_change_nothing(s, changes):
    with pytest.raises(ServiceError):
        _record(s, [s["member"]], **changes)
    assert ledger.total_hours(s["member"]) == 0


def test_admin_cannot_credit_members_outside_the_subtree(s):
    with pytest.raises(Forbidden):
        _record(s, [s["member"], s["outsider"]])
    assert ledger.total_hours(s["member"]) == 0
    with pytest.raises(ServiceError):
        offline.users_by_username(s["admin"], ["mem1", "out1"])


def test_adding_attendees_twice_credits_once(s):
    t = _record(s, [s["member"]])
    assert offline.add_training_attendees(s["admin"], t, [s["member"], s["sec"]]) == 1
    assert ledger.total_hours(s["member"]) == 40


def test_group_session_attendance_credits_each_present_member_once(s):
    when = datetime(2025, 5, 1, 9, 0)
    session = offline.schedule_group_session(s["admin"], organisation=s["branch"], lesson=s["lesson"],
                                             scheduled_at=when)
    with pytest.raises(ServiceError):
        offline.mark_attendance(s["admin"], session, [s["member"]], now=when - timedelta(hours=1))
    assert offline.mark_attendance(s["admin"], session, [s["member"]], now=when + timedelta(hours=1)) == 1
    assert offline.mark_attendance(s["admin"], session, [s["member"], s["sec"]], now=when + timedelta(hours=2)) == 1
    assert ledger.total_hours(s["member"]) == 1.0  # 45 minutes of lesson = 1 学时
    entry = ledger.entries(s["member"])[0]
    assert entry.kind == "group" and entry.credited_on == date(2025, 5, 1)
    with pytest.raises(Forbidden):
        offline.mark_attendance(s["admin"], session, [s["outsider"]], now=when + timedelta(hours=2))


def test_pages_for_org_admins_only(client, auth, s):
    auth.login("mem1")
    assert client.get("/training/").status_code == 403
    auth.logout()
    auth.login("townadmin")
    assert client.get("/training/").status_code == 200
    r = client.post("/training/offline/new", data={
        "organisation_id": s["town"].id, "title": "支部书记培训", "organiser": "县委组织部",
        "organiser_level": "county_above", "offjob": "y", "category": "political_theory",
        "starts_on": "2025-04-01", "ends_on": "2025-04-02", "days": "2", "attendees": "sec1\nmem1"})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert ledger.total_hours(s["sec"]) == 16
    r = client.post("/training/offline/new", data={
        "organisation_id": s["town"].id, "title": "越权", "organiser": "县委组织部",
        "organiser_level": "county_above", "category": "political_theory",
        "starts_on": "2025-04-01", "ends_on": "2025-04-02", "days": "1", "attendees": "out1"})
    assert r.status_code == 400 and "out1" in r.get_data(as_text=True)
    assert ledger.total_hours(s["outsider"]) == 0


def test_group_pages(client, auth, s, make_user, make_org):
    s["lesson"].course.status = "approved"
    auth.login("townadmin")
    r = client.post("/training/group/new", data={"organisation_id": s["branch"].id, "lesson_id": s["lesson"].id,
                                                 "scheduled_at": "2025-05-01T09:00", "location": "党员活动室"})
    assert r.status_code == 302
    url = r.headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert "李党员" in page and "外人" not in page
    r = client.post(url, data={"present": [str(s["member"].id)]})
    assert r.status_code == 302 and ledger.total_hours(s["member"]) == 1.0
    other_admin = make_user(org=make_org(), role="org_admin")
    auth.logout()
    auth.login(other_admin.username)
    assert client.get(url).status_code == 404


def test_a_group_session_can_be_cancelled_until_attendance_is_taken(client, auth, s, make_user, make_org):
    from elearn.audit.models import AuditEntry
    from elearn.extensions import db
    from elearn.training.models import GroupSession
    when = datetime(2025, 5, 1, 9, 0)
    mistaken = offline.schedule_group_session(s["admin"], organisation=s["branch"], lesson=s["lesson"],
                                              scheduled_at=when, location="错误的地点")
    held = offline.schedule_group_session(s["admin"], organisation=s["branch"], lesson=s["lesson"],
                                          scheduled_at=when)
    offline.mark_attendance(s["admin"], held, [s["member"]], now=when + timedelta(hours=1))
    mistaken_id, held_id = mistaken.id, held.id
    other_admin = make_user(org=make_org(), role="org_admin")
    auth.login(other_admin.username)
    assert client.post(f"/training/group/{mistaken_id}/cancel").status_code == 404
    auth.logout()
    auth.login("mem1")
    assert client.post(f"/training/group/{mistaken_id}/cancel").status_code == 403
    auth.logout()
    auth.login("townadmin")
    assert "取消本次培训" in client.get(f"/training/group/{mistaken_id}").get_data(as_text=True)
    assert "取消本次培训" not in client.get(f"/training/group/{held_id}").get_data(as_text=True)
    r = client.post(f"/training/group/{mistaken_id}/cancel")
    assert r.status_code == 302 and r.headers["Location"].endswith("/training/")
    assert db.session.get(GroupSession, mistaken_id) is None
    entry = db.session.query(AuditEntry).filter_by(action="group.cancel").one()
    assert entry.object_id == mistaken_id and entry.before["location"] == "错误的地点"
    # Attendance taken: it stays, and so do the credits.
    r = client.post(f"/training/group/{held_id}/cancel")
    assert r.status_code == 302 and db.session.get(GroupSession, held_id) is not None
    assert ledger.total_hours(s["member"]) == 1.0
    assert "不能取消" in client.get(r.headers["Location"]).get_data(as_text=True)
