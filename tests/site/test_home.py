"""The member's home: continue learning at the saved position, required series with a bar per course and
their due dates, hours against the requirement with the pace from the joining date, recent credits, unread
notifications, and recommendations that close the member's own gap, each with its reason — in a fixed number
of queries whatever the number of courses."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event

from elearn import clock
from elearn.extensions import db as _db
from elearn.ledger import requirements
from elearn.ledger import services as ledger
from elearn.notify import services as notify
from elearn.study.models import PlaybackSession, WatchProgress
from elearn.training.models import PlannedTraining, TrainingPlan


def _credit(user, hours, *, theory, source_id, offjob=False, county=False, on=None):
    ledger.credit(user, kind="offline" if offjob else "lesson", source_kind="test", source_id=source_id,
                  hours=hours, title=f"学习记录{source_id}", category="political_theory", innovative_theory=theory,
                  offjob=offjob, county_level=county, credited_on=on)
    _db.session.commit()


def _joined(user, on: date):
    for m in user.memberships:
        m.started_on = on
    _db.session.commit()


def test_a_member_created_today_is_not_behind(client, auth, make_user):
    m = make_user("h_new", joined_on=clock.site_today())
    status = requirements.status(m)
    assert status.state == "on_pace" and status.expected_hours == 0.0 and not status.warnings
    auth.login("h_new")
    html = client.get("/").get_data(as_text=True)
    assert "学时进度落后" not in html and "按进度到今天应完成 0.0 学时" in html


def test_a_member_who_joined_mid_cycle_counts_pace_from_joining(make_user, site_clock):
    site_clock.set_site(datetime(2026, 6, 1, 9, 0))
    m = make_user(joined_on=clock.site_today())
    assert requirements.status(m).state == "on_pace"
    # Half a year later the pace counts from 2026-06-01 (minus the grace days), not from 2024-01-01.
    later = date(2026, 12, 1)
    expected = requirements.status(m, today=later).expected_hours
    whole_cycle = requirements.Pace(later).expected(160.0)
    assert 0 < expected < whole_cycle / 2


def test_a_member_who_joined_two_years_ago_with_no_credit_is_behind(client, auth, make_user):
    m = make_user("h_old")
    _joined(m, clock.site_today() - timedelta(days=730))
    status = requirements.status(m)
    assert status.state == "behind" and status.expected_hours > 30
    auth.login("h_old")
    assert "学时进度落后" in client.get("/").get_data(as_text=True)


def test_a_transfer_keeps_the_first_joining_date(make_org, make_user):
    from elearn.orgs import members as users
    m = make_user()
    _joined(m, clock.site_today() - timedelta(days=730))
    users.transfer(make_user(role="site_admin"), m, make_org(), on=clock.site_today())
    assert requirements.joined_on(m) == clock.site_today() - timedelta(days=730)
    assert requirements.status(m).state == "behind"


@pytest.fixture
def home(make_org, make_user, make_course, make_lesson, publish):
    rural = make_org(sector="rural")
    member = make_user("h_mem", org=rural)
    theory = make_course(title="创新理论必修课", theory=True)
    t1 = make_lesson(course=theory, title="第一讲", duration=600, position=0)
    make_lesson(course=theory, title="第二讲", duration=600, position=1)
    other = make_course(title="知识技能选修课", theory=False, category="knowledge_skills")
    elective_theory = make_course(title="创新理论选修课", theory=True)
    due = clock.site_today() + timedelta(days=10)
    required = publish([theory], sectors=["rural"], required=True, due_on=due, title="农村必修专题")
    publish([other, elective_theory], orgs=[(rural, True)], title="组织选修专题")
    return {"member": member, "theory": theory, "t1": t1, "other": other, "elective_theory": elective_theory,
            "required": required, "due": due, "org": rural}


def test_home_tells_what_to_do_next(client, auth, home):
    m, t1 = home["member"], home["t1"]
    now = clock.now_utc()
    _db.session.add(PlaybackSession(id="hs-1", user_id=m.id, lesson_id=t1.id, started_at=now, last_report_at=now))
    _db.session.add(WatchProgress(user_id=m.id, lesson_id=t1.id, intervals=[[0, 600]], watched_s=600,
                                  position_s=125, completed_at=now))
    _db.session.commit()
    _credit(m, 2.5, theory=False, source_id=1)
    notify.notify(m, "series_required", "有新的必修专题", email=False)
    auth.login("h_mem")
    html = client.get("/").get_data(as_text=True)
    # Continue learning: the last lesson, linking to the player (which resumes at the saved position).
    assert "继续学习" in html and f'href="/learn/lessons/{t1.id}"' in html and "第一讲" in html
    # The required series with a bar per course and its due date.
    series = html[html.index('id="my-series-h"'):]
    assert "农村必修专题" in series and f"截止日期：{home['due'].isoformat()}" in series and "还有 10 天" in series
    assert 'aria-label="创新理论必修课 的学习进度"' in series and 'aria-valuenow="50"' in series
    # Hours, recent credits, unread notifications.
    assert "2.5</strong> / 160" in html and "学习记录1" in html and "1 条未读通知" in html
    # The lesson page resumes at the saved position.
    lesson = client.get(f"/learn/lessons/{t1.id}").get_data(as_text=True)
    assert 'data-resume-position="125' in lesson


def test_theory_share_below_half_recommends_theory_courses_with_the_reason(client, auth, home):
    m = home["member"]
    _credit(m, 4.0, theory=False, source_id=2)
    _credit(m, 1.0, theory=True, source_id=3)
    auth.login("h_mem")
    html = client.get("/").get_data(as_text=True)
    recs = html[html.index('id="recs-h"'):html.index('id="my-series-h"')]
    assert "创新理论必修课" in recs and "创新理论选修课" in recs and "知识技能选修课" not in recs.split("面向")[0]
    assert "推荐理由：党的创新理论学时占比 20%，低于 50% 的要求。" in recs
    # The rural sector's series comes first, and says so.
    assert recs.index("创新理论必修课") < recs.index("创新理论选修课") and "面向农村领域" in recs


def test_theory_share_met_recommends_no_theory_course(client, auth, home):
    _credit(home["member"], 3.0, theory=True, source_id=4)
    auth.login("h_mem")
    html = client.get("/").get_data(as_text=True)
    assert "党的创新理论学时占比" not in html


def test_a_secretary_short_of_offjob_hours_is_shown_trainings_to_join(client, auth, home, make_user):
    county = home["org"]
    sec = make_user("h_sec", org=county, category="branch_secretary")
    _credit(sec, 10.0, theory=True, source_id=5, offjob=True, county=True)
    admin = make_user(role="site_admin")
    today = clock.site_today()
    plan = TrainingPlan(organisation_id=county.id, year=today.year, title="年度培训计划", status="filed",
                        created_by_id=admin.id)
    draft = TrainingPlan(organisation_id=county.id, year=today.year + 1, title="草稿计划", created_by_id=admin.id)
    _db.session.add_all([plan, draft])
    _db.session.flush()
    _db.session.add_all([
        PlannedTraining(plan_id=plan.id, title="县委党校书记轮训班", organiser="县委组织部", county_level=True,
                        starts_on=today, ends_on=today + timedelta(days=5), hours=40),
        PlannedTraining(plan_id=plan.id, title="已结束的培训", organiser="县委组织部", county_level=True,
                        starts_on=today - timedelta(days=9), ends_on=today - timedelta(days=1), hours=40),
        PlannedTraining(plan_id=plan.id, title="乡镇自办培训", organiser="镇党委", county_level=False,
                        starts_on=today, ends_on=today, hours=8),
        PlannedTraining(plan_id=draft.id, title="未备案的培训", organiser="县委组织部", county_level=True,
                        starts_on=today, ends_on=today, hours=8)])
    _db.session.commit()
    auth.login("h_sec")
    html = client.get("/").get_data(as_text=True)
    assert "县委党校书记轮训班" in html
    assert "推荐理由：今年县级以上脱产培训已 10.0 学时，还差 30.0 学时（每年不少于 40 学时）。" in html
    for hidden in ("已结束的培训", "乡镇自办培训", "未备案的培训"):
        assert hidden not in html
    auth.logout()
    auth.login("h_mem")  # a plain member is not sent to secretaries' trainings
    assert "县委党校书记轮训班" not in client.get("/").get_data(as_text=True)


def _home_statements(client, db) -> int:
    """Statements of one GET / (the sign-in session's periodic touch left out: it depends on the time only)."""
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        if "login_session" not in statement and not statement.startswith("SELECT user_account.id AS user_account_id"):
            seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", before)
    try:
        assert client.get("/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    return len(seen)


def test_home_queries_do_not_grow_with_courses(client, auth, db, make_org, make_user, make_course, make_lesson,
                                              publish):
    rural = make_org(sector="rural")
    make_user("h_many", org=rural)

    def add(n):
        courses = [make_course(theory=i % 2 == 0) for i in range(n)]
        for c in courses:
            make_lesson(course=c, duration=300)
        publish(courses[: n // 2], sectors=["rural"], required=True)
        publish(courses[n // 2:], orgs=[(rural, True)])

    auth.login("h_many")
    add(4)
    client.get("/")
    few = _home_statements(client, db)
    add(46)  # 50 courses in four series
    many = _home_statements(client, db)
    assert many == few and many <= 30, (few, many)
