"""Requirement status: totals, theory share, the secretary's yearly off-job hours, exemption, pace."""
from datetime import date
from itertools import count

import pytest

from elearn.extensions import db
from elearn.ledger import requirements
from elearn.ledger import services as ledger
from elearn.policy import POLICY

_src = count(1)
MID = date(2026, 7, 1)


def add(user, hours, *, theory=True, on=date(2025, 5, 1), offjob=False, county=False, kind="lesson"):
    ledger.credit(user, kind=kind, source_kind=kind, source_id=next(_src), hours=hours, title="x",
                  category="political_theory", innovative_theory=theory, offjob=offjob, county_level=county,
                  credited_on=on)
    db.session.commit()


def test_nothing_yet_is_behind_mid_cycle_but_on_pace_at_the_start(make_user):
    user = make_user()
    for m in user.memberships:  # a member since the cycle began (the pace counts from joining)
        m.started_on = POLICY.cycle_start
    db.session.commit()
    st = requirements.status(user, today=MID)
    assert st.state == "behind" and st.target_hours == POLICY.member_cycle_hours
    assert 0 < st.expected_hours < POLICY.member_cycle_hours
    assert any(w.code == "behind" for w in st.warnings)
    assert requirements.status(user, today=POLICY.cycle_start).state == "on_pace"


def test_met_with_enough_hours_and_theory(make_user):
    user = make_user()
    add(user, 80, theory=True)
    add(user, 80, theory=False)
    st = requirements.status(user, today=MID)
    assert st.total_hours == 160 and st.theory_share == pytest.approx(0.5)
    assert st.state == "met" and st.total_met and st.theory_met and st.percent == 100


def test_theory_share_below_half_fails(make_user):
    user = make_user()
    add(user, 60, theory=True)
    add(user, 100, theory=False)
    st = requirements.status(user, today=MID)
    assert st.total_met and not st.theory_met and st.state == "behind"
    assert any(w.code == "theory_share" for w in st.warnings)


def test_pace_is_pro_rata(make_user):
    user = make_user()
    add(user, 90)
    assert requirements.status(user, today=MID).state == "on_pace"  # ~40 % of the cycle, 56 % of hours
    assert requirements.status(user, today=date(2028, 6, 1)).state == "behind"


def test_hours_outside_the_cycle_do_not_count(make_user):
    user = make_user()
    add(user, 50, on=date(2023, 12, 31))
    assert requirements.status(user, today=MID).total_hours == 0


def test_exempt_members_are_never_failing(make_user):
    user = make_user(exempt=True, exempt_reason="年老体弱")
    st = requirements.status(user, today=date(2028, 12, 31))
    assert st.state == "exempt" and st.target_hours is None and st.warnings == []
    assert st.as_dict()["state"] == "exempt"


def test_secretary_needs_280_and_yearly_county_offjob(make_user):
    sec = make_user(category="branch_secretary")
    st = requirements.status(sec, today=MID)
    assert st.target_hours == POLICY.secretary_cycle_hours
    assert [y.year for y in st.years] == [2024, 2025, 2026]
    assert all(y.offjob_required == POLICY.secretary_yearly_offjob_hours for y in st.years)
    for year in (2024, 2025):
        add(sec, 40, on=date(year, 3, 1), offjob=True, county=True, kind="offline")
    add(sec, 40, on=date(2026, 3, 1), offjob=True, county=False, kind="offline")  # below county: no
    add(sec, 100, on=date(2026, 3, 2))
    st = requirements.status(sec, today=MID)
    by_year = {y.year: y for y in st.years}
    assert by_year[2024].offjob_met and by_year[2025].offjob_met
    assert by_year[2026].offjob_met is False and by_year[2026].current
    assert any(w.code == "offjob_open" for w in st.warnings)
    assert st.state == "on_pace"
    # A past year missed makes the secretary behind.
    st2026 = requirements.status(sec, today=date(2027, 2, 1))
    assert any(w.code == "offjob_missed" for w in st2026.warnings) and st2026.state == "behind"


def test_ordinary_member_has_no_offjob_requirement(make_user):
    st = requirements.status(make_user(), today=MID)
    assert st.offjob_met is None and all(y.offjob_required is None for y in st.years)


def test_cadre_target_comes_from_policy(make_user):
    assert requirements.status(make_user(category="cadre"), today=MID).target_hours == POLICY.cadre_cycle_hours
