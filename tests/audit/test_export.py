"""The audit log export (/org/audit/export as CSV and XLSX), read back: the names of actors and the changes
they made are inert text whatever they start with; object ids stay numbers."""
import csv
import io

import pytest
from openpyxl import load_workbook

from elearn.orgs import members as users

# Names a spreadsheet program would execute (the ASCII signs and their full-width forms).
HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-1+1", "@SUM(1)", "＝1+1", "＋1", "－1", "＠SUM(1)"]


@pytest.fixture
def setup(make_org, make_user):
    town = make_org("镇党委")
    member = make_user("member1", org=town, name="党员")
    site = make_user("site", org=town, role="site_admin")
    for i, name in enumerate(HOSTILE):
        admin = make_user(f"admin{i}", org=town, role="org_admin", name=name)
        users.update(admin, member, name=f"{name} 改名")
    return {"member": member, "site": site}


def test_csv_export_quotes_formula_like_text(client, auth, setup):
    auth.login("site")
    r = client.get("/org/audit/export", query_string={"format": "csv", "action": "user.update"})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"), newline="")))[1:]
    assert sorted(row[1] for row in rows) == sorted("'" + name for name in HOSTILE)
    assert all(row[6] == str(setup["member"].id) for row in rows)  # the object id, a plain number
    # The change, as JSON text (the name masked: the log keeps personal values only so, elearn.security.masking).
    assert all(row[8].startswith("{") and '"name"' in row[8] and "改名" not in row[8] for row in rows)


def test_xlsx_export_writes_text_cells_and_numbers(client, auth, setup):
    auth.login("site")
    r = client.get("/org/audit/export", query_string={"action": "user.update"})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).active
    rows = list(ws.iter_rows(min_row=2))
    assert not [c.coordinate for row in rows for c in row if c.data_type == "f"]
    actors = {row[1].value: row[1] for row in rows}
    assert sorted(actors) == sorted(HOSTILE)  # each name as it is
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in actors.values())
    assert all(row[6].value == setup["member"].id and row[6].data_type == "n" for row in rows)
