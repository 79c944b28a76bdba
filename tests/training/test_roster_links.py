"""Roster entries linked to lecturer accounts (courses, ratings, lectures given), audited status changes with a
history on the entry's page, and a training plan citing the needs survey it answers."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from elearn import clock
from elearn.audit.models import AuditEntry
from elearn.branch.meeting_models import Meeting
from elearn.branch.survey_models import Survey, SurveyQuestion
from elearn.community.models import CourseRating
from elearn.extensions import db as _db
from elearn.training.models import Lecturer, TrainingPlan


@pytest.fixture
def world(make_org, make_user):
    town = make_org("镇党委")
    east = make_org("东村支部", kind="branch", parent=town)
    west = make_org("西村支部", kind="branch", parent=town)
    other = make_org("外县")
    return {"town": town, "east": east, "west": west, "other": other,
            "townadmin": make_user("townadmin", org=town, role="org_admin"),
            "eastadmin": make_user("eastadmin", org=east, role="org_admin"),
            "otheradmin": make_user("otheradmin", org=other, role="org_admin"),
            "teacher": make_user("teacher", org=east, role="lecturer", name="刘老师"),
            "teacher2": make_user("teacher2", org=east, role="lecturer", name="陈老师"),
            "farteacher": make_user("farteacher", org=other, role="lecturer"),
            "member": make_user("member1", org=east)}


def add_lecturer(client, world, name="刘讲师", status="active"):
    r = client.post("/roster/new", data={"name": name, "organisation_id": world["east"].id, "status": status})
    assert r.status_code == 302, r.headers.get("Location")
    return _db.session.execute(select(Lecturer).order_by(Lecturer.id.desc())).scalars().first()


def test_link_account_shows_courses_ratings_and_lectures(client, auth, world, make_course):
    course = make_course(title="党史十讲", lecturer=world["teacher"])
    make_course(title="别人的课", lecturer=world["teacher2"])
    now = clock.now_utc()
    for stars, who in ((5, "member"), (4, "eastadmin")):
        _db.session.add(CourseRating(user_id=world[who].id, course_id=course.id, stars=stars, created_at=now,
                                     updated_at=now))
    _db.session.commit()
    auth.login("townadmin")
    lec = add_lecturer(client, world)
    for kind, status, title in (("lecture", "held", "七一党课"), ("special_lecture", "held", "专题讲座一"),
                                ("lecture", "cancelled", "取消的党课"), ("branch_committee", "held", "支委会")):
        _db.session.add(Meeting(organisation_id=world["east"].id, kind=kind, title=title, starts_at=now,
                                ends_at=now + timedelta(hours=1), lecturer_id=lec.id, status=status,
                                created_by_id=world["townadmin"].id))
    _db.session.commit()
    page = client.get(f"/roster/{lec.id}").get_data(as_text=True)
    assert "farteacher" not in page and "teacher2" in page  # accounts of my subtree only
    assert client.post(f"/roster/{lec.id}/account", data={"user_id": world["teacher"].id}).status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Lecturer, lec.id).user_id == world["teacher"].id
    page = client.get(f"/roster/{lec.id}").get_data(as_text=True)
    assert "党史十讲" in page and "别人的课" not in page and "4.5" in page
    assert "七一党课" in page and "专题讲座一" in page and "取消的党课" not in page and "支委会" not in page
    assert "（2 次）" in page
    entry = _db.session.execute(select(AuditEntry).where(AuditEntry.action == "lecturer.link")).scalar_one()
    assert entry.before == {"user_id": None} and entry.after == {"user_id": world["teacher"].id}


def test_link_refuses_other_roles_other_subtrees_and_a_second_entry(client, auth, world):
    auth.login("townadmin")
    first = add_lecturer(client, world, "甲")
    second = add_lecturer(client, world, "乙")
    client.post(f"/roster/{first.id}/account", data={"user_id": world["teacher"].id})
    for user, entry in (("member", second), ("farteacher", second), ("teacher", second)):
        r = client.post(f"/roster/{entry.id}/account", data={"user_id": world[user].id}, follow_redirects=True)
        assert r.status_code == 200
        _db.session.expire_all()
        assert _db.session.get(Lecturer, second.id).user_id is None, user
    assert "已关联到其他讲师" in r.get_data(as_text=True)
    assert client.post(f"/roster/{second.id}/account", data={"user_id": "x1"}).status_code == 400
    auth.logout()
    auth.login("otheradmin")
    assert client.post(f"/roster/{first.id}/account", data={"user_id": ""}).status_code == 404
    auth.logout()
    auth.login("teacher")
    assert client.post(f"/roster/{first.id}/account", data={"user_id": ""}).status_code == 403
    _db.session.expire_all()
    assert _db.session.get(Lecturer, first.id).user_id == world["teacher"].id


def test_status_changes_are_audited_with_a_history(client, auth, world):
    auth.login("townadmin")
    lec = add_lecturer(client, world)
    for status in ("paused", "paused", "retired"):
        r = client.post(f"/roster/{lec.id}", data={"name": "刘讲师", "organisation_id": world["east"].id,
                                                   "status": status})
        assert r.status_code == 302
    rows = _db.session.execute(select(AuditEntry).where(AuditEntry.action == "lecturer.status")
                               .order_by(AuditEntry.id)).scalars().all()
    assert [(r.before, r.after) for r in rows] == [({"status": "active"}, {"status": "paused"}),
                                                   ({"status": "paused"}, {"status": "retired"})]
    page = client.get(f"/roster/{lec.id}").get_data(as_text=True)
    history = page[page.index('id="status-history"'):]
    assert history.count("<li>") == 3  # added as active, then two changes (saving "paused" again is none)
    assert "在库 → 暂停" in history and "暂停 → 已退出师资库" in history
    assert history.index("在库 → 暂停") < history.index("暂停 → 已退出师资库")


def survey_of(org, admin, title, status="open"):
    survey = Survey(organisation_id=org.id, title=title, created_by_id=admin.id, status=status,
                    opens_on=clock.site_today(), closes_on=clock.site_today() + timedelta(days=9))
    survey.questions.append(SurveyQuestion(kind="text", text="建议", options=[], position=0))
    _db.session.add(survey)
    _db.session.commit()
    return survey


def test_plan_cites_a_survey_of_its_organisation_or_above(client, auth, world):
    above = survey_of(world["town"], world["townadmin"], "全镇需求调研")
    sibling = survey_of(world["west"], world["townadmin"], "西村调研")
    draft = survey_of(world["east"], world["townadmin"], "草稿调研", status="draft")
    auth.login("eastadmin")
    r = client.post("/org/plans", data={"organisation_id": world["east"].id, "year": clock.site_today().year,
                                        "title": "东村年度计划"})
    assert r.status_code == 302
    plan = _db.session.execute(select(TrainingPlan)).scalar_one()
    page = client.get(f"/org/plans/{plan.id}").get_data(as_text=True)
    assert "全镇需求调研" in page and "西村调研" not in page and "草稿调研" not in page
    for bad in (sibling.id, draft.id, 999999):
        client.post(f"/org/plans/{plan.id}/survey", data={"survey_id": bad})
        _db.session.expire_all()
        assert _db.session.get(TrainingPlan, plan.id).survey_id is None
    assert client.post(f"/org/plans/{plan.id}/survey", data={"survey_id": "1e9"}).status_code == 400
    assert client.post(f"/org/plans/{plan.id}/survey", data={"survey_id": above.id}).status_code == 302
    _db.session.expire_all()
    assert _db.session.get(TrainingPlan, plan.id).survey_id == above.id
    page = client.get(f"/org/plans/{plan.id}").get_data(as_text=True)
    cited = page[page.index('id="plan-survey"'):page.index('id="plan-survey"') + 400]
    assert "全镇需求调研" in cited and f"/surveys/manage/{above.id}/results" not in cited  # above my reach
    auth.logout()
    auth.login("townadmin")
    page = client.get(f"/org/plans/{plan.id}").get_data(as_text=True)
    assert f"/surveys/manage/{above.id}/results" in page
    assert _db.session.execute(select(AuditEntry).where(AuditEntry.action == "training_plan.survey")).scalar_one()

