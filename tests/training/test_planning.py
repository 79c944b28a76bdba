from datetime import date

import pytest
from sqlalchemy import select

from elearn.audit.models import AuditEntry
from elearn.errors import Forbidden, NotFound, ServiceError
from elearn.extensions import db
from elearn.training import plans as training_plans
from elearn.training import roster as lecturers


@pytest.fixture
def setup(make_org, make_user):
    town = make_org("镇党委")
    east = make_org("东村支部", kind="branch", parent=town)
    other = make_org("外县")
    return {"town": town, "east": east, "other": other,
            "admin": make_user("townadmin", org=town, role="org_admin"),
            "otheradmin": make_user("otheradmin", org=other, role="org_admin"),
            "m1": make_user("mem01", org=east, name="王一"), "m2": make_user("mem02", org=east, name="王二"),
            "far": make_user("far01", org=other)}


def test_plan_filing(setup):
    admin = setup["admin"]
    plan = training_plans.create_plan(admin, setup["town"], year=2025, title="2025年度脱产培训计划")
    with pytest.raises(ServiceError) as exc:
        training_plans.file_plan(admin, plan)
    assert exc.value.code == "no_trainings"
    training_plans.add_training(admin, plan, title="书记示范培训", organiser="县委组织部", county_level=True,
                                starts_on=date(2025, 4, 1), ends_on=date(2025, 4, 5), hours=40)
    training_plans.file_plan(admin, plan)
    assert plan.status == "filed" and plan.filed_at is not None
    with pytest.raises(ServiceError) as exc:
        training_plans.create_plan(admin, setup["town"], year=2025, title="再来一个")
    assert exc.value.code == "plan_exists"
    with pytest.raises(Forbidden):
        training_plans.create_plan(setup["otheradmin"], setup["town"], year=2026, title="越权")
    with pytest.raises(NotFound):
        training_plans.get_plan(setup["otheradmin"], plan.id)
    assert [p.id for p in training_plans.plans_for(admin)] == [plan.id]
    assert training_plans.plans_for(setup["otheradmin"]) == []
    actions = set(db.session.execute(select(AuditEntry.action)).scalars())
    assert {"training_plan.create", "training_plan.add_training", "training_plan.file"} <= actions


def test_training_validation(setup):
    plan = training_plans.create_plan(setup["admin"], setup["town"], year=2025, title="计划")
    with pytest.raises(ServiceError) as exc:
        training_plans.add_training(setup["admin"], plan, title="x", organiser="y", starts_on=date(2025, 5, 2),
                                    ends_on=date(2025, 5, 1), hours=8)
    assert exc.value.code == "bad_dates"
    with pytest.raises(ServiceError) as exc:
        training_plans.add_training(setup["admin"], plan, title="x", organiser="y", starts_on=date(2026, 5, 1),
                                    ends_on=date(2026, 5, 1), hours=8)
    assert exc.value.code == "bad_year"
    with pytest.raises(ServiceError) as exc:
        training_plans.add_training(setup["admin"], plan, title="x", organiser="y", starts_on=date(2025, 5, 1),
                                    ends_on=date(2025, 5, 1), hours=0)
    assert exc.value.code == "bad_hours"
    assert plan.trainings == []


def test_overlap_and_duplicate_warnings(setup):
    admin, m1, m2 = setup["admin"], setup["m1"], setup["m2"]
    plan = training_plans.create_plan(admin, setup["town"], year=2025, title="计划")
    spring = training_plans.add_training(admin, plan, title="党史学习 专题班", organiser="县委党校",
                                         starts_on=date(2025, 4, 1), ends_on=date(2025, 4, 5), hours=40)
    overlapping = training_plans.add_training(admin, plan, title="乡村振兴培训", organiser="县农业局",
                                              starts_on=date(2025, 4, 5), ends_on=date(2025, 4, 6), hours=16)
    autumn_dup = training_plans.add_training(admin, plan, title="党史学习专题班", organiser="县委党校",
                                             starts_on=date(2025, 10, 1), ends_on=date(2025, 10, 3), hours=24)
    clean = training_plans.add_training(admin, plan, title="数字技能", organiser="县委组织部",
                                        starts_on=date(2025, 6, 1), ends_on=date(2025, 6, 2), hours=16)
    assert training_plans.assign(admin, spring, [m1]).saved

    r = training_plans.assign(admin, overlapping, [m1, m2])
    assert not r.saved and r.added == [] and [(w.user_id, w.kind) for w in r.warnings] == [(m1.id, "overlap")]
    assert "同一时间" in r.warnings[0].message
    assert overlapping.participants == []
    r = training_plans.assign(admin, autumn_dup, [m1])
    assert [(w.kind, w.other_id) for w in r.warnings] == [("duplicate", spring.id)] and not r.saved
    r = training_plans.assign(admin, clean, [m1, m2])
    assert r.saved and r.warnings == [] and sorted(r.added) == sorted([m1.id, m2.id])
    # Acknowledged: saved, and the acknowledgement is kept on the participant.
    r = training_plans.assign(admin, overlapping, [m1, m2], acknowledge=True)
    assert r.saved and {p.user_id: p.warning_acknowledged for p in overlapping.participants} == {m1.id: True,
                                                                                               m2.id: False}
    # Again: nothing new, no warning about the training itself.
    r = training_plans.assign(admin, overlapping, [m1])
    assert r.already == [m1.id] and r.added == [] and r.warnings == []


def test_assign_only_members_of_the_plans_subtree(setup):
    plan = training_plans.create_plan(setup["admin"], setup["town"], year=2025, title="计划")
    t = training_plans.add_training(setup["admin"], plan, title="x", organiser="y", starts_on=date(2025, 3, 1),
                                    ends_on=date(2025, 3, 1), hours=8)
    found, missing = training_plans.resolve_members(setup["admin"], t, ["MEM01", "far01", "nobody"])
    assert [u.username for u in found] == ["mem01"] and missing == ["far01", "nobody"]
    with pytest.raises(Forbidden):
        training_plans.assign(setup["admin"], t, [setup["far"]])


def test_roster_search(setup):
    admin, town, east = setup["admin"], setup["town"], setup["east"]
    lecturers.save(admin, None, name="张教授", organisation=town, title="县委党校教授", fields="党史、党章党规",
                   categories=["party_rules", "revolutionary_tradition"])
    lecturers.save(admin, None, name="李老师", organisation=east, fields="农业技术，电子商务",
                   categories=["knowledge_skills"], status="paused")
    lecturers.save(setup["otheradmin"], None, name="赵讲师", organisation=setup["other"], fields="党史")

    def names(**kw):
        rows, total = lecturers.search(admin, **kw)
        assert total == len(rows)
        return [r.name for r in rows]

    assert names() == ["张教授", "李老师"]  # the other county's lecturer is out of reach
    assert names(q="党史") == ["张教授"]
    assert names(q="电子商务") == ["李老师"]
    assert names(q="东村") == ["李老师"]  # organisation name
    assert names(category="knowledge_skills") == ["李老师"]
    assert names(status="active") == ["张教授"]
    assert names(org=east) == ["李老师"]
    lec = lecturers.search(admin, q="李老师")[0][0]
    assert lec.fields == "农业技术、电子商务"
    with pytest.raises(NotFound):
        lecturers.get(setup["otheradmin"], lec.id)
    with pytest.raises(Forbidden):
        lecturers.search(setup["m1"])
    with pytest.raises(ServiceError):
        lecturers.save(admin, None, name=" ", organisation=town)
