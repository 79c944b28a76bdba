import io
from datetime import date

import pytest
from openpyxl import load_workbook

from elearn.extensions import db
from elearn.models.study import StudyCredit


@pytest.fixture
def tree(make_org, make_user):
    county = make_org("县委", sector="rural")
    town = make_org("镇党委", parent=county)
    branch = make_org("东村支部", kind="branch", parent=town)
    other = make_org("外县", sector="community")
    p = {"county": county, "town": town, "branch": branch, "other": other,
         "site": make_user("site", org=county, role="site_admin"),
         "townadmin": make_user("townadmin", org=town, role="org_admin"),
         "member": make_user("member1", org=branch, name="东村党员"),
         "outsider": make_user("outsider", org=other, name="外县党员")}
    db.session.add(StudyCredit(user_id=p["member"].id, hours=12.5, kind="lesson", source_kind="lesson", source_id=1,
                               title="t", innovative_theory=True, credited_on=date.today(),
                               organisation_id=branch.id))
    db.session.commit()
    return p


def test_member_gets_403(client, auth, tree):
    auth.login("member1")
    assert client.get("/analytics/").status_code == 403
    assert client.get("/analytics/export.xlsx").status_code == 403


def test_org_admin_sees_only_subtree(client, auth, tree):
    auth.login("townadmin")
    page = client.get("/analytics/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "镇党委" in html and "东村支部" in html and "<svg" in html
    assert "东村党员" in html  # 12.5 h is behind pace: listed at risk
    assert client.get(f"/analytics/?org={tree['branch'].id}").status_code == 200
    assert client.get(f"/analytics/?org={tree['county'].id}").status_code == 404
    assert client.get(f"/analytics/?org={tree['other'].id}").status_code == 404
    assert client.get(f"/analytics/export.xlsx?org={tree['other'].id}").status_code == 404
    assert "<script" not in html


def test_export_xlsx(client, auth, tree):
    auth.login("site")
    r = client.get(f"/analytics/export.xlsx?org={tree['county'].id}")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(r.data), read_only=True)
    assert len(wb.sheetnames) == 7
    summary = list(wb[wb.sheetnames[0]].iter_rows(values_only=True))
    assert summary[1][0] == "县委" and summary[1][1] == 2 and summary[1][7] == 12.5
