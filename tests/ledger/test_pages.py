"""The member's study-hours pages: dashboard with charts and warnings, transcript downloads."""
import io
from datetime import date

import pytest

from elearn.extensions import db
from elearn.ledger import services as ledger


@pytest.fixture
def member(make_user):
    user = make_user(name="张三")
    ledger.credit(user, kind="lesson", source_kind="lesson", source_id=1, hours=2.5, title="=HYPERLINK(1) 第一讲",
                  category="political_theory", innovative_theory=True, credited_on=date(2025, 3, 1))
    ledger.credit(user, kind="offline", source_kind="offline_training", source_id=1, hours=8,
                  title="脱产培训班", category="party_rules", innovative_theory=False, offjob=True,
                  county_level=True, credited_on=date(2025, 6, 1))
    db.session.commit()
    return user


def test_needs_login(client):
    assert client.get("/me/").status_code == 302


def test_dashboard_shows_hours_chart_and_ledger(client, auth, member):
    auth.login(member.username)
    page = client.get("/me/").get_data(as_text=True)
    assert "10.5" in page and "160" in page
    assert "<svg" in page and "chart-bar" in page and "2025" in page
    assert "脱产培训班" in page and "第一讲" in page
    assert "我的学时" in page  # navigation entry
    assert "<script" not in page.split("</header>")[1]  # no inline scripts (CSP)


def test_dashboard_warns_when_behind(client, auth, member):
    auth.login(member.username)
    page = client.get("/me/").get_data(as_text=True)
    assert "进度落后" in page  # 10.5 h is far behind the pro-rata expectation today


def test_exempt_member_is_shown_as_exempt(client, auth, make_user):
    user = make_user(exempt=True, exempt_reason="年老体弱")
    auth.login(user.username)
    page = client.get("/me/").get_data(as_text=True)
    assert "免予" in page and "进度落后" not in page


def test_secretary_sees_yearly_offjob_table(client, auth, make_user):
    user = make_user(category="branch_secretary")
    auth.login(user.username)
    page = client.get("/me/").get_data(as_text=True)
    assert "县级以上脱产培训" in page and "280" in page


def test_csv_transcript(client, auth, member):
    auth.login(member.username)
    r = client.get("/me/transcript.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    text = r.data.decode("utf-8")
    assert text.startswith("\ufeff") and "张三" in text and "脱产培训班" in text
    assert "'=HYPERLINK" in text  # formula injection neutralised


def test_xlsx_transcript(client, auth, member):
    from openpyxl import load_workbook
    auth.login(member.username)
    r = client.get("/me/transcript.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).active
    values = [c.value for row in ws.iter_rows() for c in row]
    assert "张三" in values and "脱产培训班" in values and 8 in values


def test_pdf_certificate_embeds_the_chinese_font(client, auth, member):
    auth.login(member.username)
    r = client.get("/me/certificate.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    # A TrueType subset inside the file (FontFile2), not a CID font the viewer must have (STSong-Light).
    assert r.data.startswith(b"%PDF") and b"/FontFile2" in r.data and b"STSong-Light" not in r.data


def test_transcripts_are_only_ones_own(client, auth, member, make_user):
    other = make_user(name="李四")
    auth.login(other.username)
    text = client.get("/me/transcript.csv").data.decode("utf-8")
    assert "李四" in text and "脱产培训班" not in text
