import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from elearn.extensions import db
from elearn.orgs.models import User
from elearn.training import plans as training_plans
from elearn.training.models import Lecturer, TrainingParticipant


@pytest.fixture
def setup(make_org, make_user):
    town = make_org("镇党委")
    east = make_org("东村支部", kind="branch", parent=town)
    other = make_org("外县")
    return {"town": town, "east": east, "other": other,
            "site": make_user("site", org=town, role="site_admin"),
            "townadmin": make_user("townadmin", org=town, role="org_admin"),
            "otheradmin": make_user("otheradmin", org=other, role="org_admin"),
            "member": make_user("member1", org=east, name="东村党员")}


def count_users():
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def test_member_cannot_use_org_tools(client, auth, setup):
    auth.login("member1")
    for url in ("/org/import", "/org/plans", "/org/audit/export", "/roster/"):
        assert client.get(url).status_code == 403


def test_import_page_good_and_bad_file(client, auth, setup):
    auth.login("townadmin")
    before = count_users()
    bad = "用户名,姓名\nnew01,新一\nmember1,重名\n".encode()
    r = client.post("/org/import", data={"organisation_id": setup["east"].id,
                                         "file": (io.BytesIO(bad), "m.csv")}, content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "member1" in html and "已存在" in html and count_users() == before
    good = "用户名,姓名\nnew01,新一\nnew02,新二\n".encode()
    r = client.post("/org/import", data={"organisation_id": setup["east"].id,
                                         "file": (io.BytesIO(good), "m.csv")}, content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "已导入 2 名党员" in html and "new02" in html
    assert count_users() == before + 2
    # Another county's organisation id is not accepted.
    r = client.post("/org/import", data={"organisation_id": setup["other"].id,
                                         "file": (io.BytesIO(good), "m.csv")}, content_type="multipart/form-data")
    assert r.status_code == 400 and count_users() == before + 2


def test_training_assignment_warns_then_saves_on_acknowledge(client, auth, setup):
    admin = setup["townadmin"]
    plan = training_plans.create_plan(admin, setup["town"], year=2025, title="年度计划")
    t1 = training_plans.add_training(admin, plan, title="党史班", organiser="县委党校", starts_on=date(2025, 4, 1),
                                     ends_on=date(2025, 4, 3), hours=24)
    t2 = training_plans.add_training(admin, plan, title="技能班", organiser="县人社局", starts_on=date(2025, 4, 2),
                                     ends_on=date(2025, 4, 2), hours=8)
    training_plans.assign(admin, t1, [setup["member"]])
    auth.login("townadmin")
    r = client.post(f"/org/trainings/{t2.id}", data={"usernames": "member1"})
    assert r.status_code == 409 and "党史班" in r.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(TrainingParticipant)
                              .where(TrainingParticipant.training_id == t2.id)).scalar_one() == 0
    r = client.post(f"/org/trainings/{t2.id}", data={"usernames": "member1", "acknowledge": "y"})
    assert r.status_code == 302
    assert db.session.execute(select(func.count()).select_from(TrainingParticipant)
                              .where(TrainingParticipant.training_id == t2.id)).scalar_one() == 1
    r = client.post(f"/org/trainings/{t2.id}", data={"usernames": "nobody"})
    assert r.status_code == 400 and "nobody" in r.get_data(as_text=True)
    assert client.post(f"/org/plans/{plan.id}/file").status_code == 302
    auth.logout()
    auth.login("otheradmin")
    assert client.get(f"/org/plans/{plan.id}").status_code == 404
    assert client.get(f"/org/trainings/{t2.id}").status_code == 404


def test_plan_pages(client, auth, setup):
    auth.login("townadmin")
    r = client.post("/org/plans", data={"organisation_id": setup["east"].id, "year": 2026, "title": "东村计划"})
    assert r.status_code == 302
    plan_url = r.headers["Location"]
    r = client.post(plan_url, data={"title": "示范班", "organiser": "县委组织部", "starts_on": "2026-05-01",
                                    "ends_on": "2026-04-30", "hours": "8"})
    assert r.status_code == 400 and "结束日期不能早于开始日期" in r.get_data(as_text=True)
    r = client.post(plan_url, data={"title": "示范班", "organiser": "县委组织部", "starts_on": "2026-05-01",
                                    "ends_on": "2026-05-02", "hours": "16", "county_level": "y"})
    assert r.status_code == 302 and "示范班" in client.get(plan_url).get_data(as_text=True)
    assert "东村计划" in client.get("/org/plans").get_data(as_text=True)


def test_audit_export_scoped_to_subtree(client, auth, setup, make_user):
    from elearn.orgs import members as users
    users.update(setup["townadmin"], setup["member"], name="改名党员")
    users.update(setup["otheradmin"], setup["otheradmin"], name="=HYPERLINK(\"x\")")
    auth.login("townadmin")
    r = client.get("/org/audit/export?format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    # The new name masked: personal values stay out of the log (elearn.security.masking).
    assert rows[0][3] == "操作" and any("改***" in row[8] for row in rows[1:])
    assert not any("改名党员" in "".join(row) for row in rows)
    assert not any("HYPERLINK" in "".join(row) for row in rows)
    auth.logout()
    auth.login("site")
    r = client.get("/org/audit/export")
    wb = load_workbook(io.BytesIO(r.data), read_only=True)
    cells = [c for row in wb.active.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    # The actor's name as it is (a text cell; the change itself holds it masked).
    assert any(c.startswith("'=HYPERLINK") or c == '=HYPERLINK("x")' for c in cells)
    assert client.get("/org/audit/export?format=pdf").status_code == 400


def test_roster_pages(client, auth, setup):
    auth.login("townadmin")
    r = client.post("/roster/new", data={"name": "张教授", "organisation_id": setup["east"].id, "fields": "党史，党章",
                                         "categories": ["party_rules"], "status": "active"})
    assert r.status_code == 302
    lec = db.session.execute(select(Lecturer)).scalar_one()
    assert lec.fields == "党史、党章"
    assert "张教授" in client.get("/roster/?q=党史").get_data(as_text=True)
    assert "张教授" not in client.get("/roster/?q=经济").get_data(as_text=True)
    assert "张教授" in client.get("/roster/?category=party_rules").get_data(as_text=True)
    assert client.post("/roster/new", data={"name": "", "organisation_id": setup["east"].id,
                                            "status": "active"}).status_code == 400
    auth.logout()
    auth.login("otheradmin")
    assert "张教授" not in client.get("/roster/").get_data(as_text=True)
    assert client.get(f"/roster/{lec.id}").status_code == 404
