"""Events that reach members: a required series published to me (a job fanning out in batches), due in 7 days
and not completed, behind pace (the daily reminder job, once per series / once a week), a quiz graded, a
transfer recorded, a group session scheduled — each told once however often the jobs run."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from elearn import clock
from elearn.courses import series as series_service
from elearn.extensions import db
from elearn.ledger import services as ledger
from elearn.notify import services as notify
from elearn.notify import tasks
from elearn.notify.models import Notification
from elearn.orgs import members
from elearn.quiz import services as quiz_service
from elearn.quiz.models import Question, Quiz
from elearn.training import services as training


def _kinds(user) -> list[str]:
    db.session.expire_all()
    return list(db.session.execute(select(Notification.kind).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)).scalars())


def _count(kind: str) -> int:
    return db.session.execute(select(func.count()).select_from(Notification)
                              .where(Notification.kind == kind)).scalar_one()


@pytest.fixture
def small_batches(monkeypatch):
    """Fan-outs of 2 members per job run, so that an audience of a few takes several batches."""
    monkeypatch.setattr(notify, "NOTIFY", dataclasses.replace(notify.NOTIFY, fanout_batch=2))


def test_a_required_series_published_tells_its_audience_once_in_batches(make_org, make_user, make_course,
                                                                         publish, small_batches):
    rural, city = make_org(sector="rural"), make_org(sector="community")
    audience = [make_user(org=rural) for _ in range(5)]
    cadre_only = make_user(org=rural, category="cadre")
    outsider = make_user(org=city)
    admin = make_user(role="site_admin")
    series = publish([make_course()], sectors=["rural"], categories=["member"], required=True, published=False)
    series_service.publish(admin, series)
    assert all(_kinds(u) == ["series_required"] for u in audience)
    assert _kinds(cadre_only) == [] and _kinds(outsider) == []
    told = _count("series_required")  # the five, and the course's lecturer (whose own organisation is rural)
    # Publishing again (unpublished and back) or a rerun of the job tells nobody twice.
    series_service.unpublish(admin, series)
    series_service.publish(admin, series)
    tasks.fan_out.enqueue("series_required", series.id)
    assert _count("series_required") == told == 6


def test_an_optional_series_tells_nobody(make_org, make_user, make_course, publish):
    member = make_user(org=make_org(sector="rural"))
    series = publish([make_course()], sectors=["rural"], required=False, published=False)
    series_service.publish(make_user(role="site_admin"), series)
    assert _kinds(member) == []


def test_due_in_seven_days_reminds_those_not_done_once(make_org, make_user, make_course, publish, site_clock):
    org = make_org(sector="rural")
    behind, done = make_user(org=org), make_user(org=org)
    course = make_course(declared_hours=2)
    today = clock.site_today()
    series = publish([course], sectors=["rural"], required=True, due_on=today + timedelta(days=10))
    ledger.credit(done, kind="course", source_kind="course", source_id=course.id, hours=2, title=course.title,
                  category=course.category, innovative_theory=True, course_id=course.id)
    db.session.commit()

    tasks.daily_reminders.enqueue()  # 10 days before: not yet
    assert "series_due" not in _kinds(behind)
    site_clock.advance(3 * 86400)
    tasks.daily_reminders.enqueue()
    tasks.daily_reminders.enqueue()  # the hourly rerun, a restart: nothing more
    site_clock.advance(86400)
    tasks.daily_reminders.enqueue()
    assert _kinds(behind).count("series_due") == 1
    assert "series_due" not in _kinds(done)
    [row] = db.session.execute(select(Notification).where(Notification.kind == "series_due",
                                                          Notification.user_id == behind.id)).scalars()
    assert series.title in row.title and series.due_on.isoformat() in row.body


def test_behind_pace_is_told_once_a_week(make_org, make_user, make_course, site_clock):
    site_clock.set_site(datetime(2026, 6, 10, 9, 0))  # mid-cycle: a member without hours is behind
    org = make_org()
    idle, keen = make_user(org=org), make_user(org=org)
    exempt = make_user(org=org, exempt=True, exempt_reason="年老体弱")
    course = make_course(declared_hours=200)
    ledger.credit(keen, kind="course", source_kind="course", source_id=course.id, hours=200, title=course.title,
                  category=course.category, innovative_theory=True, course_id=course.id)
    db.session.commit()
    for _ in range(3):
        tasks.daily_reminders.enqueue()
    assert _kinds(idle) == ["behind_pace"]
    assert _kinds(keen) == [] and _kinds(exempt) == []
    site_clock.advance(86400)  # the same ISO week (Wednesday → Thursday)
    tasks.daily_reminders.enqueue()
    assert _kinds(idle) == ["behind_pace"]
    site_clock.advance(6 * 86400)  # the next week
    tasks.daily_reminders.enqueue()
    assert _kinds(idle) == ["behind_pace", "behind_pace"]


def test_a_graded_quiz_tells_the_member(make_user, make_course, publish, make_org):
    member = make_user(org=make_org(sector="rural"))
    course = make_course()
    publish([course], sectors=["rural"])
    quiz = Quiz(course_id=course.id, title="第一单元测验", question_count=1, pass_percent=60, hours=0.5,
                published=True)
    db.session.add_all([quiz, Question(course_id=course.id, kind="truefalse", text="对吗？", options=["对", "错"],
                                       correct=[0])])
    db.session.commit()
    attempt = quiz_service.start_attempt(member, quiz)
    quiz_service.submit(member, attempt, {attempt.drawn[0]["q"]: [attempt.drawn[0]["order"].index(0)]})
    [row] = db.session.execute(select(Notification).where(Notification.user_id == member.id)).scalars()
    assert row.kind == "quiz_graded" and "第一单元测验" in row.title and "已通过" in row.body
    assert row.link == f"/quiz/attempt/{attempt.id}/result"


def test_a_transfer_tells_the_member_in_its_transaction(make_org, make_user):
    root = make_org(name="县委")
    here = make_org(name="甲支部", kind="branch", parent=root)
    there = make_org(name="乙支部", kind="branch", parent=root)
    admin = make_user(org=root, role="org_admin")
    member = make_user(org=here)
    members.transfer(admin, member, there)
    [row] = db.session.execute(select(Notification).where(Notification.user_id == member.id)).scalars()
    assert row.kind == "transfer_recorded" and "乙支部" in row.body


def test_a_group_session_tells_the_members_of_its_subtree(make_org, make_user, make_lesson):
    root = make_org()
    branch = make_org(kind="branch", parent=root)
    admin = make_user(org=root, role="org_admin")
    inside, elsewhere = make_user(org=branch), make_user(org=make_org())
    lesson = make_lesson(duration=600)
    session = training.schedule_group_session(admin, organisation=branch, lesson=lesson,
                                              scheduled_at=clock.now_utc() + timedelta(days=2), location="会议室")
    tasks.fan_out.enqueue("group_session", session.id)  # a retried job: nobody twice
    assert _kinds(inside) == ["group_session_scheduled"] and _kinds(elsewhere) == []
    row = db.session.execute(select(Notification).where(Notification.user_id == inside.id)).scalar_one()
    assert lesson.title in row.title and "会议室" in row.body


def test_an_unknown_fan_out_or_a_gone_source_tells_nobody(make_user):
    member = make_user()
    tasks.fan_out.enqueue("no_such_thing", 1)
    tasks.fan_out.enqueue("series_required", 999999)
    tasks.fan_out.enqueue("announcement", 999999)
    assert _kinds(member) == []
