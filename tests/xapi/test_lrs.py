"""Learning records reach a real LRS (Ralph, tests/xapi/conftest.py) through the outbox: what members do through
the pages and the API becomes statements, read back through the LRS's own ``GET /xAPI/statements``."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from elearn import clock
from elearn.extensions import db
from elearn.ledger import services as ledger
from elearn.policy import XAPI
from elearn.quiz import services as quizzes
from elearn.study import services as study
from elearn.xapi import services as xapi
from elearn.xapi.models import FAILED, PENDING, SENT, XapiStatement
from elearn.xapi.tasks import flush_statements
from tests.xapi.conftest import HOME

SID = "0b7c6a52-3f0e-4a8e-9a51-6f1f3c2d9e11"
VERB = "http://adlnet.gov/expapi/verbs/"


def account(user):
    return {"objectType": "Agent", "account": {"homePage": HOME, "name": str(user.id)}}


def verbs(found):
    return [s["verb"]["id"].rsplit("/", 1)[1] for s in found]


def by_verb(found):
    """Statements by their verb's name (one each), whatever the order of those of the same moment."""
    out = {s["verb"]["id"].rsplit("/", 1)[1]: s for s in found}
    assert len(out) == len(found)
    return out


def outbox():
    return list(db.session.execute(select(XapiStatement).order_by(XapiStatement.id)).scalars())


@pytest.fixture
def lesson_setup(make_org, make_user, make_course, make_lesson, publish):
    org = make_org(sector="rural")
    member = make_user(org=org)
    course = make_course(title="新思想学习")
    lesson = make_lesson(course=course, title="第一讲", duration=60)
    publish([course], sectors=["rural"])
    return member, course, lesson


def watch_whole_lesson(client, auth, member, lesson):
    """The member's player: receives the segments' evidence, then reports the whole lesson watched."""
    auth.login(member.username)
    when = clock.now_utc() - timedelta(minutes=10)
    for i in range(10):
        study.record_segment_delivery(member, lesson.asset, "720p", i, i * 6, i * 6 + 6, SID, now=when)
    r = client.post(f"/api/v1/lessons/{lesson.id}/progress", headers={"X-CSRFToken": client.csrf_token()},
                    json={"playback_session": SID, "seq": 0, "intervals": [[0, 60]], "position": 60, "rate": 1.0,
                          "visible": True})
    assert r.status_code == 200 and r.get_json()["completed"] is True


def test_a_lesson_completed_through_the_progress_api_reaches_the_lrs(client, auth, lesson_setup, lrs):
    member, course, lesson = lesson_setup
    watch_whole_lesson(client, auth, member, lesson)
    assert lrs.statements() == []  # written with the event, sent by the job
    assert flush_statements.run() == 4

    found = lrs.statements()
    assert sorted(verbs(found)) == ["completed", "earned", "launched", "progressed"]
    assert all(s["actor"] == account(member) for s in found)
    got = by_verb(found)
    launched, progressed, completed, earned = got["launched"], got["progressed"], got["completed"], got["earned"]
    lesson_iri = f"{HOME}/xapi/activities/lesson/{lesson.id}"
    assert launched["object"]["id"] == lesson_iri and launched["context"]["registration"] == SID
    assert progressed["result"]["extensions"][f"{HOME}/xapi/extensions/progress"] == 0.75
    assert completed["verb"] == {"id": VERB + "completed", "display": {"en-US": "completed"}}
    assert completed["object"]["id"] == lesson_iri
    assert completed["object"]["definition"]["name"] == {"zh-CN": "第一讲"}
    assert completed["result"]["completion"] is True and completed["result"]["duration"] == "PT1M"
    assert completed["context"]["contextActivities"]["parent"][0]["id"] == f"{HOME}/xapi/activities/course/{course.id}"
    assert earned["object"]["id"] == lesson_iri
    assert earned["result"]["extensions"][f"{HOME}/xapi/extensions/study-hours"] == ledger.hours_for_seconds(60)
    assert earned["context"]["extensions"][f"{HOME}/xapi/extensions/credit-kind"] == "lesson"
    # The LRS keeps the ids the outbox gave them, and the outbox knows they were stored.
    rows = outbox()
    assert sorted(s["id"] for s in found) == sorted(r.statement_id for r in rows)
    assert {r.status for r in rows} == {SENT}

    # Further reports of the finished lesson say nothing new.
    r = client.post(f"/api/v1/lessons/{lesson.id}/progress", headers={"X-CSRFToken": client.csrf_token()},
                    json={"playback_session": SID, "seq": 1, "intervals": [[0, 60]], "position": 60, "rate": 1.0,
                          "visible": True})
    assert r.status_code == 200
    assert len(outbox()) == 4


@pytest.fixture
def quiz_setup(make_org, make_user, make_course, publish):
    lecturer = make_user(role="lecturer")
    course = make_course(lecturer=lecturer)
    member = make_user(org=make_org(sector="rural"))
    publish([course], sectors=["rural"])
    quizzes.add_question(lecturer, course, kind="single", text="党的根本宗旨", options=["全心全意为人民服务", "其他"],
                         correct=[0], explanation="见党章总纲")
    quiz = quizzes.save_quiz(lecturer, course, title="小测", question_count=1, pass_percent=100, max_attempts=2,
                             time_limit_minutes=None, hours=0.5, published=True)
    return member, quiz


def take_quiz(client, quiz, member, right):
    assert client.post(f"/quiz/{quiz.id}/start").status_code == 302
    attempt = next(a for a in quizzes.attempts_of(member, quiz) if a.submitted_at is None)
    position = attempt.drawn[0]["order"].index(0 if right else 1)
    r = client.post(f"/quiz/attempt/{attempt.id}", data={f"q{attempt.drawn[0]['q']}": str(position)})
    assert r.status_code == 302


def test_a_quiz_failed_then_passed(client, auth, quiz_setup, lrs):
    member, quiz = quiz_setup
    auth.login(member.username)
    take_quiz(client, quiz, member, right=False)
    take_quiz(client, quiz, member, right=True)
    assert flush_statements.run() == 3

    got = by_verb(lrs.statements())
    failed, passed, earned = got["failed"], got["passed"], got["earned"]
    quiz_iri = f"{HOME}/xapi/activities/quiz/{quiz.id}"
    assert failed["verb"]["id"] == VERB + "failed" and failed["object"]["id"] == quiz_iri
    assert failed["result"]["score"] == {"scaled": 0.0, "raw": 0.0, "min": 0, "max": 100}
    assert failed["result"]["success"] is False and failed["result"]["completion"] is True
    assert failed["result"]["duration"].startswith("PT")
    assert passed["verb"]["id"] == VERB + "passed"
    assert passed["result"]["score"]["scaled"] == 1.0 and passed["result"]["success"] is True
    assert passed["context"]["extensions"][f"{HOME}/xapi/extensions/attempt"] == 2
    assert passed["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/assessment"
    assert earned["result"]["extensions"][f"{HOME}/xapi/extensions/study-hours"] == 0.5
    assert all(s["actor"] == account(member) for s in (failed, passed, earned))


def test_group_session_attendance(client, auth, make_org, make_user, make_course, make_lesson, lrs):
    town = make_org("镇党委")
    branch = make_org("东村支部", kind="branch", parent=town)
    make_user("townadmin", org=town, role="org_admin")
    member = make_user(org=branch)
    lesson = make_lesson(course=make_course(), title="集中学习", duration=2700)
    auth.login("townadmin")
    r = client.post("/training/group/new", data={"organisation_id": branch.id, "lesson_id": lesson.id,
                                                 "scheduled_at": "2025-05-01T09:00", "location": "党员活动室"})
    assert r.status_code == 302
    session_url = r.headers["Location"]
    assert client.post(session_url, data={"present": [str(member.id)]}).status_code == 302
    assert flush_statements.run() == 2

    got = by_verb(lrs.statements())
    attended, earned = got["attended"], got["earned"]
    session_id = session_url.rstrip("/").rsplit("/", 1)[1]
    assert attended["actor"] == account(member)
    assert attended["verb"]["id"] == VERB + "attended"
    assert attended["object"]["id"] == f"{HOME}/xapi/activities/group_session/{session_id}"
    assert attended["result"] == {"completion": True, "duration": "PT45M"}
    assert attended["context"]["contextActivities"]["parent"][0]["id"] == f"{HOME}/xapi/activities/lesson/{lesson.id}"
    assert earned["result"]["extensions"][f"{HOME}/xapi/extensions/study-hours"] == 1.0


def test_lrs_down_keeps_the_statements_and_back_up_gets_each_exactly_once(client, auth, lesson_setup, lrs,
                                                                          site_clock):
    member, _course, lesson = lesson_setup
    watch_whole_lesson(client, auth, member, lesson)
    lrs.stop()
    result = xapi.flush()
    assert (result.sent, result.failed, result.deferred) == (0, 0, 4)
    rows = outbox()
    assert all(r.status == PENDING and r.attempts == 1 and r.last_error for r in rows)
    assert all(r.next_attempt_at == site_clock.utc + timedelta(seconds=XAPI.backoff_base_s) for r in rows)

    # Back up, but the statements wait out their back-off; then they all go, once.
    lrs.start()
    assert xapi.flush().sent == 0 and lrs.statements() == []
    site_clock.advance(XAPI.backoff_base_s)
    assert xapi.flush().sent == 4
    found = lrs.statements()
    assert sorted(s["id"] for s in found) == sorted(r.statement_id for r in outbox())
    assert xapi.flush().sent == 0

    # A worker that died between the LRS's answer and its own commit sends them again: the LRS stores nothing new.
    db.session.execute(update(XapiStatement).values(status=PENDING, next_attempt_at=site_clock.utc))
    db.session.commit()
    assert xapi.flush().sent == 4
    assert [s["id"] for s in lrs.statements()] == [s["id"] for s in found]


def test_lrs_down_again_doubles_the_wait(lesson_setup, lrs, site_clock, client, auth):
    member, _course, lesson = lesson_setup
    watch_whole_lesson(client, auth, member, lesson)
    lrs.stop()
    xapi.flush()
    site_clock.advance(XAPI.backoff_base_s)
    assert xapi.flush().deferred == 4
    assert {r.next_attempt_at for r in outbox()} == {site_clock.utc + timedelta(seconds=2 * XAPI.backoff_base_s)}
    assert xapi.flush().deferred == 0  # nothing is due before then


def test_a_statement_the_lrs_refuses_fails_alone(client, auth, quiz_setup, lrs, runner):
    member, quiz = quiz_setup
    auth.login(member.username)
    take_quiz(client, quiz, member, right=False)
    take_quiz(client, quiz, member, right=True)
    rows = {row.verb: row for row in outbox()}
    failed, passed, earned = rows["failed"], rows["passed"], rows["earned"]
    # Another platform already stored a different statement under the id of the "passed" one: the LRS refuses
    # ours (409), whatever batch it comes in.
    other = {**passed.statement, "verb": {"id": VERB + "launched"}, "result": {"completion": False}}
    assert lrs.post([other]) == 200

    result = xapi.flush()
    assert (result.sent, result.failed, result.deferred) == (2, 1, 0)
    stored = {s["id"]: s for s in lrs.statements()}
    assert stored[failed.statement_id]["verb"]["id"] == VERB + "failed"
    assert stored[earned.statement_id]["verb"]["id"] == "http://id.tincanapi.com/verb/earned"
    assert stored[passed.statement_id]["verb"]["id"] == VERB + "launched"  # the other platform's, untouched
    db.session.expire_all()
    refused = db.session.get(XapiStatement, passed.id)
    assert refused.status == FAILED and refused.last_error.startswith("HTTP 409")
    assert xapi.flush().sent == 0  # not sent again by itself
    out = runner.invoke(args=["xapi", "status"]).output
    assert "sent: 2" in out and "failed: 1" in out and passed.statement_id in out
    # Once the cause is dealt with, an admin puts it back in line.
    assert runner.invoke(args=["xapi", "retry-failed"]).output.startswith("1 statements")
    assert xapi.flush().failed == 1


def test_wrong_lrs_credentials_keep_the_statements_pending(app, lesson_setup, lrs, client, auth):
    member, _course, lesson = lesson_setup
    watch_whole_lesson(client, auth, member, lesson)
    app.config["ELEARN_LRS_AUTH"] = "elearn:wrong"
    result = xapi.flush()
    assert (result.sent, result.failed, result.deferred) == (0, 0, 4)
    assert {r.status for r in outbox()} == {PENDING}
    assert outbox()[0].last_error.startswith("HTTP 401")
    assert lrs.statements() == []


def test_a_reading_read_through_the_api(client, auth, lesson_setup, lrs, site_clock, db):
    from elearn.readings.models import CourseReading, Reading

    member, course, _lesson = lesson_setup
    reading = Reading(title="党章", filename="a.txt", source_key="k", estimated_minutes=2.0,
                      uploaded_by_id=course.lecturer_id)
    db.session.add(reading)
    db.session.flush()
    db.session.add(CourseReading(course_id=course.id, reading_id=reading.id))
    db.session.commit()
    auth.login(member.username)
    url = f"/api/v1/readings/{reading.id}/progress"
    headers = {"X-CSRFToken": client.csrf_token()}
    for seq, active in enumerate((5, 125)):
        r = client.post(url, headers=headers, json={"playback_session": SID, "seq": seq, "active_seconds": active,
                                                    "position": 0.5, "visible": True})
        assert r.status_code == 200
        site_clock.advance(130)
    assert r.get_json()["completed"] is True
    flush_statements.run()

    got = by_verb(lrs.statements())
    assert sorted(got) == ["completed", "earned", "launched"]
    reading_iri = f"{HOME}/xapi/activities/reading/{reading.id}"
    assert {s["object"]["id"] for s in got.values()} == {reading_iri}
    assert got["launched"]["context"]["registration"] == SID
    assert got["completed"]["result"] == {"completion": True, "duration": "PT2M"}
    assert got["completed"]["context"]["contextActivities"]["parent"][0]["definition"]["name"] == {
        "zh-CN": course.title}
    assert got["earned"]["context"]["extensions"][f"{HOME}/xapi/extensions/credit-kind"] == "reading"
