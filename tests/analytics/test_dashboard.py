from datetime import date

import pytest

from elearn.analytics import dashboard as analytics
from elearn.errors import Forbidden, NotFound
from elearn.extensions import db
from elearn.ledger.models import StudyCredit
from elearn.ledger.requirements import cycle_fraction

TODAY = date(2026, 7, 2)


def credit(user, hours, on, theory=False, kind="lesson", source_kind=None, source_id=None, course_id=None):
    credit.n += 1
    db.session.add(StudyCredit(user_id=user.id, hours=hours, kind=kind, source_kind=source_kind or kind,
                               source_id=source_id or credit.n, course_id=course_id, title="t",
                               innovative_theory=theory, credited_on=on, organisation_id=user.organisation_id))


credit.n = 10_000


@pytest.fixture
def world(make_org, make_user, make_course, make_lesson, publish):
    county = make_org("县委", sector="rural")
    a = make_org("甲村支部", kind="branch", parent=county, sector="rural")
    g = make_org("社区党总支", kind="general_branch", parent=county, sector="community")
    g1 = make_org("一支部", kind="branch", parent=g, sector="community")
    other = make_org("外县", sector="rural")
    p = {
        "county": county, "a": a, "g": g, "g1": g1, "other": other,
        "a1": make_user("u_a1", org=a), "a2": make_user("u_a2", org=a),
        "a3": make_user("u_a3", org=a, exempt=True, exempt_reason="年老体弱"),
        "g1s": make_user("g1s", org=g1, category="branch_secretary"), "g2": make_user("u_g2", org=g1),
        "c0": make_user("u_c0", org=county), "out": make_user("out", org=other),
        "gone": make_user("gone", org=a),
        "site": make_user("site", org=county, role="site_admin"),
        "gadmin": make_user("gadmin", org=g, role="org_admin"),
    }
    p["gone"].active = False
    # a1: 100 h in the cycle (60 theory), plus credits before the cycle and after "today" that do not count.
    credit(p["a1"], 60, date(2026, 6, 10), theory=True)
    credit(p["a1"], 40, date(2025, 12, 1))
    credit(p["a1"], 50, date(2023, 12, 31))
    credit(p["a1"], 10, date(2026, 7, 5))
    credit(p["a2"], 20, date(2026, 7, 1), theory=True)
    credit(p["g1s"], 50, date(2025, 3, 1), theory=True)
    credit(p["g1s"], 100, date(2025, 3, 2))
    credit(p["g2"], 100, date(2024, 5, 1), theory=True)
    credit(p["g2"], 70, date(2024, 5, 2))
    credit(p["gone"], 500, date(2025, 1, 1))
    credit(p["out"], 500, date(2025, 1, 1))
    # A series of a declared-hours course X and a time-credited course Y with two playable lessons.
    x, y = make_course(title="X", declared_hours=2), make_course(title="Y")
    lessons = [make_lesson(y, f"L{i}", duration=600, position=i) for i in range(2)]
    p["series"] = publish([x, y], sectors=["rural", "community"], title="两门课专题")
    for who in ("a1", "a2", "out"):
        credit(p[who], 0.0001, date(2026, 1, 1), kind="course", source_id=x.id, course_id=x.id)
    for who in ("a1", "out"):
        for les in lessons:
            credit(p[who], 0.0001, date(2026, 1, 2), source_id=les.id, course_id=y.id)
    credit(p["g2"], 0.0001, date(2026, 1, 2), source_id=lessons[0].id, course_id=y.id)
    db.session.commit()
    return p


def near(x, y):
    return x == pytest.approx(y, abs=0.01)


def test_dashboard_numbers_on_known_data(world):
    d = analytics.dashboard(world["site"], world["county"], today=TODAY)
    s = d["summary"]
    assert (s["members"], s["exempt"], s["required"], s["on_pace"], s["met"], s["at_risk"], s["theory_ok"]) \
        == (7, 1, 6, 3, 1, 3, 3)
    assert s["on_pace_share"] == pytest.approx(0.5)
    assert near(s["hours"], 440.0005) and near(s["theory_hours"], 230)
    assert s["theory_share"] == pytest.approx(230 / 440, abs=1e-4) and near(s["avg_hours"], 440.0005 / 6)
    kids = {c["name"]: c for c in d["children"]}
    assert set(kids) == {"甲村支部", "社区党总支"}
    assert (kids["甲村支部"]["members"], kids["甲村支部"]["exempt"], kids["甲村支部"]["on_pace"],
            kids["甲村支部"]["at_risk"]) == (3, 1, 1, 1)
    assert kids["甲村支部"]["on_pace_share"] == pytest.approx(0.5) and near(kids["甲村支部"]["hours"], 120)
    assert (kids["社区党总支"]["members"], kids["社区党总支"]["on_pace"]) == (3, 2)
    assert near(kids["社区党总支"]["avg_hours"], 320 / 3) and kids["社区党总支"]["has_children"]
    assert d["direct"]["members"] == 1 and d["direct"]["at_risk"] == 1
    sectors = {x["sector"]: x for x in d["sectors"]}
    assert (sectors["rural"]["members"], sectors["community"]["members"]) == (4, 3)
    assert near(sectors["community"]["hours"], 320)
    assert [b["count"] for b in d["histogram"]] == [2, 0, 1, 0, 1, 1, 1, 0]
    months = {m["month"]: m["hours"] for m in d["monthly"]}
    assert len(months) == 12 and "2025-08" in months and "2026-07" in months
    assert near(months["2025-12"], 40) and near(months["2026-06"], 60) and near(months["2026-07"], 20)
    assert near(sum(months.values()), 120.0005)
    (series,) = d["series"]
    # Started: a1 and a2 (course X credited) and g2 (one lesson of Y); completed: a1 only.
    assert (series["title"], series["courses"], series["started"], series["completed"]) == ("两门课专题", 2, 3, 1)
    risk = d["at_risk"]
    # Furthest behind first; ties by name. The org admin is a party member too.
    assert [r["username"] for r in risk] == ["gadmin", "u_c0", "u_a2"]
    assert near(risk[2]["expected"], 160 * cycle_fraction(TODAY)) and near(risk[2]["hours"], 20)


def test_exempt_member_is_never_at_risk(world):
    d = analytics.dashboard(world["site"], world["a"], today=TODAY)
    assert "u_a3" not in [r["username"] for r in d["at_risk"]]
    assert d["summary"]["exempt"] == 1 and d["summary"]["required"] == 2
    assert d["children"] == [] and d["direct"] is None


def test_drill_down_to_general_branch(world):
    d = analytics.dashboard(world["gadmin"], world["g"], today=TODAY)
    assert d["summary"]["members"] == 3 and [c["name"] for c in d["children"]] == ["一支部"]
    assert [c["reachable"] for c in d["breadcrumbs"]] == [False, True]
    # g2 has credit for one lesson of Y: started, not completed (a started course counts, not only finished ones).
    assert (d["series"][0]["started"], d["series"][0]["completed"]) == (1, 0)


def test_access_is_limited_to_subtree(world):
    with pytest.raises(Forbidden):
        analytics.dashboard(world["gadmin"], world["county"], today=TODAY)
    with pytest.raises(NotFound):
        analytics.get_org(world["gadmin"], world["other"].id)
    with pytest.raises(Forbidden):
        analytics.get_org(world["a1"], None)
    assert analytics.get_org(world["gadmin"], None).id == world["g"].id


def test_export_has_all_sheets_and_full_at_risk_list(world):
    sheets = analytics.export_rows(world["site"], world["county"], today=TODAY)
    assert len(sheets) == 7
    risk = list(sheets.values())[-1]
    assert [r[1] for r in risk[1:]] == ["gadmin", "u_c0", "u_a2"]


def test_dashboard_query_count_does_not_grow_with_members(world, make_user, count_queries):
    with count_queries() as before:
        analytics.dashboard(world["site"], world["county"], today=TODAY)
    for _i in range(3):
        make_user(org=world["a"])
    with count_queries() as after:
        analytics.dashboard(world["site"], world["county"], today=TODAY)
    assert after[0] == before[0]
