"""Study points (学习积分): earned from what the ledger really credited, once, under a daily cap, with streaks by
site day; a correction takes them back; they never change 学时."""
from datetime import datetime, timedelta

import pytest

from elearn import clock
from elearn.auth import tokens
from elearn.errors import ServiceError
from elearn.extensions import db
from elearn.ledger import services as ledger
from elearn.points import awards
from elearn.policy import POINTS
from elearn.study import services as study

SID = "12345678-aaaa-4bbb-8ccc-123456789abc"


@pytest.fixture
def s(make_org, make_user, make_course, make_lesson, publish):
    org = make_org(sector="rural")
    member = make_user(org=org)
    course = make_course()
    lessons = [make_lesson(course=course, duration=30, position=i) for i in range(12)]
    publish([course], sectors=["rural"])
    return {"org": org, "member": member, "course": course, "lessons": lessons}


def bearer(user):
    return {"Authorization": f"Bearer {tokens.issue(user)}"}


def credit_lesson(user, lesson):
    """The ledger's one entry point, as the study service calls it for a completed lesson."""
    added = ledger.credit(user, kind="lesson", source_kind="lesson", source_id=lesson.id, hours=0.1,
                          title=lesson.title, category="political_theory", innovative_theory=True,
                          course_id=lesson.course_id)
    db.session.commit()
    return added


def my_points(client, user):
    r = client.get("/api/v1/me/points", headers=bearer(user))
    assert r.status_code == 200
    return r.get_json()


def test_completing_a_lesson_through_the_api_earns_its_points_once_and_no_hours(client, auth, site_clock, s):
    member, lesson = s["member"], s["lessons"][0]
    site_clock.set_site(datetime(2026, 5, 4, 9, 0))
    for i in range(5):
        study.record_segment_delivery(member, lesson.asset, "720p", i, i * 6, i * 6 + 6, SID,
                                      now=clock.now_utc() - timedelta(seconds=600))
    url = f"/api/v1/lessons/{lesson.id}/progress"
    body = {"playback_session": SID, "seq": 0, "intervals": [[0, 30]], "position": 30, "rate": 1.0,
            "visible": True, "ended": True}
    assert client.post(url, json=body, headers=bearer(member)).get_json()["completed"] is True
    hours = ledger.total_hours(member)
    got = my_points(client, member)
    assert got["total"] == got["year_points"] == got["today_points"] == POINTS.lesson + POINTS.daily_study
    assert got["streak_days"] == 1 and got["rules"]["daily_cap"] == POINTS.daily_cap
    assert [(a["reason"], a["points"]) for a in got["recent"]] == [("lesson", POINTS.lesson),
                                                                    ("daily", POINTS.daily_study)]
    # Replays of the report and a second credit of the same lesson add nothing, to points or to 学时.
    client.post(url, json={**body, "seq": 1}, headers=bearer(member))
    assert credit_lesson(member, lesson) is False
    assert my_points(client, member)["total"] == POINTS.lesson + POINTS.daily_study
    assert ledger.total_hours(member) == hours
    # The member's page says the same in words.
    auth.login(member.username)
    page = client.get("/me/points").get_data(as_text=True)
    assert f'id="points-year">{POINTS.lesson + POINTS.daily_study}<' in page
    assert "不计入学时" in page and lesson.title in page
    assert "积分排行" not in page  # no ranking switched on for the member's organisation


def test_daily_cap_streaks_by_site_day_and_kinds_that_earn_nothing(client, site_clock, s):
    member, lessons = s["member"], s["lessons"]
    site_clock.set_site(datetime(2026, 3, 1, 23, 50))
    for lesson in lessons[:10]:  # 10 × 5 + 2 would be 52: the cap holds the day at 40
        credit_lesson(member, lesson)
    got = my_points(client, member)
    assert got["today_points"] == POINTS.daily_cap
    assert any(a["capped"] for a in got["recent"]) and all(a["points"] >= 0 for a in got["recent"])
    # Trainings recorded by others give 学时 but no study points.
    ledger.credit(member, kind="offline", source_kind="offline_training", source_id=1, hours=2.0, title="培训",
                  category=None, innovative_theory=False)
    db.session.commit()
    assert my_points(client, member)["total"] == POINTS.daily_cap
    # Six more site days in a row (the first just after midnight in Beijing) reach the streak bonus on the 7th.
    site_clock.set_site(datetime(2026, 3, 2, 0, 5))
    for day in range(6):
        credit_lesson(member, lessons[10]) if day == 0 else ledger.credit(
            member, kind="quiz", source_kind="quiz", source_id=day, hours=0.1, title=f"测验{day}",
            category=None, innovative_theory=False)
        db.session.commit()
        if day < 5:
            site_clock.advance(24 * 3600)
    got = my_points(client, member)
    assert got["streak_days"] == POINTS.streak_days
    assert got["recent"][0]["reason"] == "quiz" and got["recent"][1]["reason"] == "streak"
    assert got["today_points"] == POINTS.daily_study + POINTS.streak_bonus + POINTS.quiz
    # A day without study breaks the streak; the next study day starts again at 1.
    site_clock.advance(2 * 24 * 3600)
    assert my_points(client, member)["streak_days"] == 0
    credit_lesson(member, lessons[11])
    assert my_points(client, member)["streak_days"] == 1


def test_a_corrected_credit_takes_its_points_back_once(client, make_user, s):
    member, lesson = s["member"], s["lessons"][0]
    admin = make_user(role="org_admin", org=s["org"])
    credit_lesson(member, lesson)
    entry = ledger.entries(member)[0]
    ledger.correct(admin, entry.id, "误录")
    got = my_points(client, member)
    assert got["total"] == POINTS.daily_study
    assert got["recent"][0]["reason"] == "reversal" and got["recent"][0]["points"] == -POINTS.lesson
    with pytest.raises(ServiceError):
        ledger.correct(admin, entry.id, "再次")
    db.session.rollback()
    assert my_points(client, member)["total"] == POINTS.daily_study


def test_both_homes_show_my_points_today_and_streak_in_one_query(client, auth, site_clock, count_queries, s,
                                                                 make_user):
    member, lessons = s["member"], s["lessons"]
    site_clock.set_site(datetime(2026, 5, 4, 9, 0))
    credit_lesson(member, lessons[0])
    site_clock.set_site(datetime(2026, 5, 5, 9, 0))
    credit_lesson(member, lessons[1])
    credit_lesson(member, lessons[2])
    today = 2 * POINTS.lesson + POINTS.daily_study
    total = today + POINTS.lesson + POINTS.daily_study
    assert my_points(client, member)["total"] == total  # what /me/points says
    assert member.id  # loaded again after the commits, outside the count
    with count_queries() as n:
        glance = awards.glance(member)
    assert n[0] == 1 and (glance.total, glance.today_points, glance.streak_days) == (total, today, 2)
    auth.login(member.username)
    html = client.get("/").get_data(as_text=True)
    assert f'<a href="/me/points">学习积分 {total} 分</a>' in html
    assert f"今天获得 {today} 分" in html and "已连续学习 2 天" in html
    client.post("/account/age-friendly", data={"mode": "on"})
    simple = client.get("/").get_data(as_text=True)
    assert 'class="elder"' in simple
    assert f"共 {total} 分，今天获得 {today} 分。已连续学习 2 天。" in simple and 'href="/me/points"' in simple
    auth.logout()
    site_clock.set_site(datetime(2026, 5, 7, 9, 0))  # a day without study in between: the streak is over
    auth.login(member.username)
    simple = client.get("/").get_data(as_text=True)
    assert f"共 {total} 分，今天获得 0 分。" in simple and "已连续学习" not in simple
    auth.logout()
    make_user("no_points", org=s["org"])
    auth.login("no_points")
    html = client.get("/").get_data(as_text=True)
    assert '<a href="/me/points">学习积分 0 分</a>' in html and "已连续学习" not in html
