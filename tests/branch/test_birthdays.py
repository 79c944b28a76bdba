"""Political birthdays: the joining date set by admins (member page, import, API), the daily job's notices (once a
year, however often it runs), the member's page with the oath, the branch's month, 29 February."""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from elearn.auth import tokens
from elearn.branch import birthdays, officers
from elearn.branch.checkin_models import PoliticalBirthday
from elearn.branch.tasks import notify_political_birthdays
from elearn.extensions import db
from elearn.notify.models import Notification
from elearn.orgs.models import User


@pytest.fixture
def s(make_org, make_user, site_clock):
    site_clock.set_site(datetime(2026, 7, 1, 8, 0))
    committee = make_org("镇党委")
    branch = make_org("东村支部", kind="branch", parent=committee)
    admin = make_user("townadmin", org=committee, role="org_admin")
    secretary = make_user("sec", org=branch, name="王书记")
    officers.appoint(admin, branch, secretary, "secretary")
    veteran = make_user("veteran", org=branch, name="老党员")
    veteran.party_joined_on = date(1976, 7, 1)
    leap = make_user("leap", org=branch, name="闰日党员")
    leap.party_joined_on = date(2004, 2, 29)
    db.session.commit()
    return {"committee": committee, "branch": branch, "admin": admin, "secretary": secretary, "veteran": veteran,
            "leap": leap, "newcomer": make_user("newcomer", org=branch, name="新党员")}


def _notices(user):
    return db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.kind == "political_birthday")).scalar_one()


def test_the_daily_job_run_twice_notifies_once(app, s):
    assert notify_political_birthdays.run() == 1
    assert notify_political_birthdays.run() == 0  # a rerun, or a restarted worker, sends nothing more
    assert _notices(s["veteran"]) == 1 and _notices(s["secretary"]) == 0
    note = db.session.execute(select(Notification).where(Notification.user_id == s["veteran"].id)).scalar_one()
    assert "50" in note.body and note.link == "/me/political-birthday"
    assert db.session.execute(select(func.count()).select_from(PoliticalBirthday)).scalar_one() == 1


def test_leap_day_joiners_celebrate_on_28_february_in_common_years(app, s, site_clock):
    site_clock.set_site(datetime(2027, 2, 28, 9, 0))
    assert [u.username for u in birthdays.birthdays_on(date(2027, 2, 28))] == ["leap"]
    assert notify_political_birthdays.run() == 1 and _notices(s["leap"]) == 1
    site_clock.set_site(datetime(2028, 2, 28, 9, 0))  # a leap year: the 29th is the day
    assert birthdays.birthdays_on(date(2028, 2, 28)) == []
    assert [u.username for u in birthdays.birthdays_on(date(2028, 2, 29))] == ["leap"]
    assert birthdays.years_in_party(date(2004, 2, 29), date(2027, 2, 28)) == 23
    assert birthdays.years_in_party(date(2004, 2, 29), date(2027, 2, 27)) == 22
    assert birthdays.celebrated_on(date(2004, 2, 29), 2027) == date(2027, 2, 28)


def test_member_page_shows_oath_and_years_and_records_the_renewal(client, auth, s):
    auth.login("veteran")
    page = client.get("/me/political-birthday").get_data(as_text=True)
    assert "永不叛党" in page and "50 年" in page and "今天是您的政治生日" in page
    r = client.post("/me/political-birthday/renew")
    assert r.status_code == 302
    page = client.get("/me/political-birthday").get_data(as_text=True)
    assert 'id="oath-renewed"' in page
    client.post("/me/political-birthday/renew")  # twice: still one record
    rows = db.session.execute(select(PoliticalBirthday).where(PoliticalBirthday.user_id == s["veteran"].id)).all()
    assert len(rows) == 1
    # the job afterwards still notifies once, on the same row
    assert notify_political_birthdays.run() == 1 and _notices(s["veteran"]) == 1
    auth.logout()
    auth.login("newcomer")
    page = client.get("/me/political-birthday").get_data(as_text=True)
    assert 'id="no-joining-date"' in page and "永不叛党" in page and "我已重温入党誓词" not in page
    assert client.post("/me/political-birthday/renew").status_code == 302  # refused with a message, no row
    assert db.session.execute(select(func.count()).select_from(PoliticalBirthday).where(
        PoliticalBirthday.user_id == s["newcomer"].id)).scalar_one() == 0


def test_branch_month_is_for_those_who_run_the_branch(client, auth, s):
    auth.login("veteran")
    assert client.get(f"/branch/{s['branch'].id}/birthdays").status_code == 403
    auth.logout()
    auth.login("sec")
    page = client.get(f"/branch/{s['branch'].id}/birthdays?month=2026-07").get_data(as_text=True)
    assert "老党员" in page and "闰日党员" not in page and "50 年" in page
    feb = client.get(f"/branch/{s['branch'].id}/birthdays?month=2027-02").get_data(as_text=True)
    assert "闰日党员" in feb and "2027-02-28" in feb
    for bad in ("2026-13", "July", "2026-7-1", "0000-01"):
        assert client.get(f"/branch/{s['branch'].id}/birthdays?month={bad}").status_code == 400
    assert client.get("/branch/999999/birthdays").status_code == 404


def test_admins_set_the_joining_date_on_the_member_page_import_and_api(client, auth, s):
    auth.login("townadmin")
    newcomer = s["newcomer"]
    r = client.post(f"/admin/members/{newcomer.id}", data={
        "name": newcomer.name, "role": "member", "category": "member", "party_joined_on": "2020-07-01"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, newcomer.id).party_joined_on == date(2020, 7, 1)
    r = client.post(f"/admin/members/{newcomer.id}", data={
        "name": newcomer.name, "role": "member", "category": "member", "party_joined_on": "2030-01-01"})
    assert r.status_code == 400 and "入党日期无效" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, newcomer.id).party_joined_on == date(2020, 7, 1)

    csv = "用户名,姓名,入党日期\nimported,导入党员,1999年7月1日\n".encode()
    r = client.post("/org/import", data={"organisation_id": s["branch"].id, "file": (io.BytesIO(csv), "m.csv")},
                    content_type="multipart/form-data")
    assert "已导入 1 名党员" in r.get_data(as_text=True)
    imported = db.session.execute(select(User).where(User.username == "imported")).scalar_one()
    assert imported.party_joined_on == date(1999, 7, 1)
    bad = "用户名,姓名,入党日期\nbadday,坏日期,1999-02-30\n".encode()
    r = client.post("/org/import", data={"organisation_id": s["branch"].id, "file": (io.BytesIO(bad), "m.csv")},
                    content_type="multipart/form-data")
    assert "入党日期“1999-02-30”无效" in r.get_data(as_text=True)
    assert db.session.execute(select(User).where(User.username == "badday")).scalar_one_or_none() is None

    headers = {"Authorization": f"Bearer {tokens.issue(s['admin'], 'adm', scopes='read,admin')}"}
    r = client.patch(f"/api/v1/members/{imported.id}", json={"party_joined_on": "1998-10-01"}, headers=headers)
    assert r.status_code == 200 and r.get_json()["party_joined_on"] == "1998-10-01"
    r = client.patch(f"/api/v1/members/{imported.id}", json={"party_joined_on": "not a date"}, headers=headers)
    assert r.status_code == 400
