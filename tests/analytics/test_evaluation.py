"""The evaluation report (中期/五年总结评估): figures against a small hand-computed world, rights, bad periods and
the PDF read back."""
import io
from datetime import date, datetime, time

import pytest
from pypdf import PdfReader

from elearn.analytics import evaluation
from elearn.branch import officers
from elearn.branch.meeting_models import Meeting
from elearn.branch.survey_models import Survey
from elearn.extensions import db
from elearn.ledger import summaries
from elearn.ledger.models import StudyCredit
from elearn.policy import POLICY

START, END = date(2024, 1, 1), date(2025, 12, 31)
SHARE = 731 / 1827  # 2024 and 2025 of the 2024–2028 cycle


def credit(user, hours, on, theory=False, offjob=False, county=False):
    credit.n += 1
    db.session.add(StudyCredit(user_id=user.id, hours=hours, kind="offline" if offjob else "lesson",
                               source_kind="offline_training" if offjob else "lesson", source_id=credit.n,
                               title="t", innovative_theory=theory, offjob=offjob, county_level=county,
                               credited_on=on, organisation_id=user.organisation_id))


credit.n = 50_000


@pytest.fixture
def world(make_org, make_user, site_clock):
    site_clock.set_site(datetime(2026, 1, 15, 10, 0))
    county = make_org("县委", county=True)
    a = make_org("甲支部", kind="branch", parent=county)
    b = make_org("乙支部", kind="branch", parent=county)
    other = make_org("外县")
    w = {"county": county, "a": a, "b": b, "other": other,
         "a1": make_user("ev_a1", org=a), "a2": make_user("ev_a2", org=a),
         "a3": make_user("ev_a3", org=a, exempt=True, exempt_reason="年老体弱"),
         "sa": make_user("ev_sa", org=a, category="branch_secretary"),
         "b1": make_user("ev_b1", org=b), "b2": make_user("ev_b2", org=b, category="cadre"),
         "sb": make_user("ev_sb", org=b, category="branch_secretary"),
         "c0": make_user("ev_c0", org=county), "cadmin": make_user("ev_cadmin", org=county, role="org_admin"),
         "badmin": make_user("ev_badmin", org=b, role="org_admin"),
         "out": make_user("ev_out", org=other),
         "site": make_user("ev_site", org=county, role="site_admin")}
    credit(w["a1"], 30, date(2024, 3, 1), theory=True)
    credit(w["a1"], 10, date(2025, 3, 1), theory=True)
    credit(w["a1"], 30, date(2025, 4, 1))
    credit(w["a2"], 10, date(2025, 1, 1))
    credit(w["a2"], 100, date(2026, 1, 2))  # after the period
    credit(w["a3"], 5, date(2024, 6, 1))
    credit(w["sa"], 40, date(2024, 5, 1), theory=True, offjob=True, county=True)
    credit(w["sa"], 20, date(2025, 5, 1), offjob=True, county=True)
    credit(w["sa"], 30, date(2025, 6, 1), offjob=True)  # below county level: not the secretaries' training
    credit(w["sa"], 30, date(2025, 7, 1), theory=True)
    credit(w["b2"], 64.5, date(2025, 2, 1), theory=True)
    credit(w["sb"], 45, date(2025, 9, 1), offjob=True, county=True)
    credit(w["c0"], 30, date(2023, 12, 31))  # before the period (and the cycle)
    credit(w["out"], 500, date(2025, 1, 1))
    for day in (date(2024, 3, 5), date(2025, 3, 5)):  # two branch assemblies held by branch A
        db.session.add(Meeting(organisation_id=a.id, kind="assembly", title="党员大会", status="held",
                               starts_at=datetime.combine(day, time(2)), ends_at=datetime.combine(day, time(4)),
                               created_by_id=w["cadmin"].id))
    db.session.add(Survey(organisation_id=county.id, title="培训需求调研2025", status="closed",
                          opens_on=date(2025, 3, 1), closes_on=date(2025, 3, 31), created_by_id=w["cadmin"].id))
    db.session.commit()
    summaries.rebuild_summaries()
    return w


def test_figures_match_the_hand_computed_world(world):
    # Members of the county: a1 a2 a3(exempt) sa | b1 b2 sb badmin | c0 cadmin — badmin and cadmin are members too.
    r = evaluation.build_report(world["county"], START, END)
    assert r.cycle_share == pytest.approx(SHARE)
    assert (r.coverage.members, r.coverage.exempt, r.coverage.required, r.coverage.covered) == (10, 1, 9, 5)
    kinds = {c.label: c for c in r.coverage_by_kind}
    assert (kinds["党支部"].required, kinds["党支部"].covered) == (7, 5)
    assert (kinds["党委"].required, kinds["党委"].covered) == (2, 0)

    cats = {c.category: c for c in r.categories}
    member = cats["member"]  # a1 70, a2 10, b1 0, badmin 0, c0 0, cadmin 0
    assert (member.members, member.exempt, member.met, member.average, member.median) == (6, 1, 1, 13.33, 0.0)
    assert member.target == pytest.approx(round(160 * SHARE, 2))
    sec = cats["branch_secretary"]  # sa 120, sb 45
    assert (sec.members, sec.met, sec.average, sec.median) == (2, 1, 82.5, 82.5)
    assert sec.target == pytest.approx(round(280 * SHARE, 2))
    cadre = cats["cadre"]  # b2 64.5 against 64.02
    assert (cadre.members, cadre.met, cadre.median) == (1, 1, 64.5)

    t = r.theory  # all hours 70+10+5+120+64.5+45, theory 40+70+64.5
    assert (t.hours, t.theory_hours) == (314.5, 174.5)
    assert t.share == pytest.approx(174.5 / 314.5) and t.meets_rule is True
    assert (t.members_with_hours, t.members_ok) == (5, 3)  # a1, sa, b2 have half theory; a2, sb do not

    y2024, y2025 = r.secretaries
    assert (y2024.year, y2024.secretaries, y2024.met, y2024.none, y2024.hours, y2024.partial) == \
        (2024, 2, 1, 1, 40.0, False)
    assert (y2025.met, y2025.none, y2025.hours, y2025.average) == (1, 0, 65.0, 32.5)

    # As of the period's end (the 2026 credit of a2 does not count): a2 | b1 badmin sb | c0 cadmin behind pace.
    assert r.as_of == END and r.at_risk == 6
    assert {o.name: o.at_risk for o in r.at_risk_by_org} == {"甲支部": 1, "乙支部": 3, "县委": 2}

    # Assemblies: 4 a year in each of the 2 branches over two years; A held 2, so neither kept the cadence.
    assembly = next(m for m in r.meetings if m["kind"] == "assembly")
    assert (assembly["held"], assembly["expected"], assembly["branches"], assembly["branches_on_cadence"]) == \
        (2, 16, 2, 0)

    (survey,) = r.surveys  # open in the period, nobody answered
    assert (survey["title"], survey["responses"], survey["response_rate"]) == ("培训需求调研2025", 0, 0.0)

    children = {c.name: c for c in r.children}
    a, b = children["甲支部"], children["乙支部"]
    assert (a.members, a.required, a.covered, a.met, a.average, a.at_risk) == (4, 3, 3, 2, 66.67, 1)
    assert a.theory_share == pytest.approx(110 / 205)
    assert (b.members, b.required, b.covered, b.met, b.at_risk) == (4, 4, 2, 1, 3)
    assert r.direct is not None and (r.direct.members, r.direct.at_risk) == (2, 2)


def test_a_branch_report_and_a_short_period(world):
    r = evaluation.build_report(world["a"], date(2025, 1, 1), date(2025, 6, 30))
    assert (r.coverage.required, r.coverage.covered) == (3, 3)  # a1, a2, sa credited in the half-year
    (year,) = r.secretaries
    assert year.partial and (year.secretaries, year.met, year.hours) == (1, 0, 20.0)
    assert r.children == [] and r.direct is None


def test_presets_follow_the_cycle():
    p = evaluation.presets()
    assert p["final"] == (POLICY.cycle_start, POLICY.cycle_end)
    assert p["midterm"][0] == POLICY.cycle_start and p["midterm"][1] == date(2026, 7, 1)


def test_admin_page_shows_figures_and_names(world, client, auth):
    auth.login("ev_cadmin")
    resp = client.get(f"/analytics/evaluation?org={world['county'].id}&start=2024-01-01&end=2025-12-31")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    for title in ("一、应训尽训", "四、基层党组织书记脱产培训", "五、组织生活召开情况", "@media print"):
        assert title in page
    assert "55.5%" in page  # the innovative-theory share 174.5 / 314.5
    assert "<td>ev_a2</td>" in page  # the at-risk names, for the organisation's admins
    preset = client.get(f"/analytics/evaluation?org={world['county'].id}&preset=final")
    assert preset.status_code == 200 and 'value="2028-12-31"' in preset.get_data(as_text=True)


def test_rights(world, client, auth):
    a, b, county = world["a"], world["b"], world["county"]
    officers.appoint(world["site"], a, world["sa"], "secretary")
    auth.login("ev_a1")  # a plain member
    assert client.get(f"/analytics/evaluation?org={a.id}").status_code == 403
    assert client.get(f"/analytics/evaluation.pdf?org={a.id}").status_code == 403
    auth.logout()
    auth.login("ev_sa")  # the secretary of branch A: their branch, nothing else, and no names
    own = client.get(f"/analytics/evaluation?org={a.id}&start=2024-01-01&end=2025-12-31")
    assert own.status_code == 200 and "<td>ev_a2</td>" not in own.get_data(as_text=True)
    assert client.get(f"/analytics/evaluation?org={b.id}").status_code == 404
    assert client.get(f"/analytics/evaluation?org={county.id}").status_code == 404
    auth.logout()
    auth.login("ev_badmin")  # the admin of the sibling branch
    assert client.get(f"/analytics/evaluation?org={a.id}").status_code == 404
    assert client.get(f"/analytics/evaluation.pdf?org={a.id}").status_code == 404
    assert client.get(f"/analytics/evaluation?org={b.id}").status_code == 200


@pytest.mark.parametrize("query, message", [
    ("start=2024-13-01&end=2025-01-01", "日期格式"),
    ("start=yesterday&end=2025-01-01", "日期格式"),
    ("start=2025-01-01", "日期格式"),
    ("start=2025-06-01&end=2025-01-01", "开始日期不能晚于结束日期"),
    ("start=2000-01-01&end=2099-12-31", "评估期间最长"),  # a hundred years
    ("start=1950-01-01&end=1951-12-31", "评估期间应在"),
    ("preset=decade", "未知的评估类型"),
    ("start=9999-01-01&end=9999-12-31", "评估期间应在"),
    ("org=abc", "参数 org 无效"),
])
def test_bad_periods_get_a_clear_message(make_org, make_user, client, auth, query, message):
    make_user("ev_cadmin", org=make_org("县委"), role="org_admin")
    auth.login("ev_cadmin")
    for path in ("/analytics/evaluation", "/analytics/evaluation.pdf"):
        resp = client.get(f"{path}?{query}")
        assert resp.status_code == 400, (path, query)
        assert message in resp.get_data(as_text=True)


def test_pdf_reads_back_with_sections_and_numbers(world, client, auth):
    auth.login("ev_cadmin")
    resp = client.get(f"/analytics/evaluation.pdf?org={world['county'].id}&start=2024-01-01&end=2025-12-31")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(resp.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for title in ("应训尽训", "各类党员学时与折算目标", "党的创新理论学时占比", "基层党组织书记脱产培训",
                  "组织生活召开情况", "培训需求调研", "学习进度落后党员", "下级组织情况"):
        assert title in text
    assert "55.5%" in text and "82.5" in text and "32.5" in text
    assert "ev_a2" not in text  # counts only: no member is named
    assert len(reader.pages) >= 6  # a page per section
