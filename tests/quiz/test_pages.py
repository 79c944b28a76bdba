"""Quiz pages: the bank for the course's lecturer, taking a quiz without leaking answers, results."""
import re

import pytest

from elearn.extensions import db
from elearn.ledger import services as ledger
from elearn.quiz import services as quizzes
from elearn.quiz.models import Question


@pytest.fixture
def s(make_org, make_user, make_course, publish):
    lecturer = make_user(role="lecturer")
    course = make_course(lecturer=lecturer)
    member = make_user(org=make_org(sector="rural"))
    outsider = make_user(org=make_org(sector="community"))
    publish([course], sectors=["rural"])
    quizzes.add_question(lecturer, course, kind="single", text="党的根本宗旨", options=["全心全意为人民服务", "其他"],
                         correct=[0], explanation="见党章总纲")
    quiz = quizzes.save_quiz(lecturer, course, title="小测", question_count=1, pass_percent=100, max_attempts=2,
                             time_limit_minutes=None, hours=0.5, published=True)
    return {"lecturer": lecturer, "course": course, "member": member, "outsider": outsider, "quiz": quiz}


def test_lecturer_adds_a_question_through_the_form(client, auth, s):
    auth.login(s["lecturer"].username)
    url = f"/quiz/course/{s['course'].id}/bank"
    r = client.post(url, data={"q-kind": "multiple", "q-text": "多选题", "q-options-0": "甲", "q-options-1": "乙",
                               "q-options-2": "丙", "q-correct": ["0", "2"], "q-submit": "1"})
    assert r.status_code == 302
    q = db.session.query(Question).filter_by(text="多选题").one()
    assert q.correct == [0, 2] and q.options == ["甲", "乙", "丙"]
    r = client.post(url, data={"q-kind": "single", "q-text": "坏题", "q-options-0": "甲", "q-options-1": "乙",
                               "q-correct": ["0", "1"], "q-submit": "1"})
    assert r.status_code == 400 and "只能有一个" in r.get_data(as_text=True)


def test_bank_is_404_for_others(client, auth, s):
    auth.login(s["member"].username)
    assert client.get(f"/quiz/course/{s['course'].id}/bank").status_code == 404


def test_take_without_leaking_answers_then_see_result(client, auth, s):
    auth.login(s["member"].username)
    assert "小测" in client.get("/quiz/").get_data(as_text=True)
    r = client.post(f"/quiz/{s['quiz'].id}/start")
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "党的根本宗旨" in page and "见党章总纲" not in page and "correct" not in page
    attempt = quizzes.attempts_of(s["member"], s["quiz"])[0]
    position = attempt.drawn[0]["order"].index(0)
    r = client.post(f"/quiz/attempt/{attempt.id}", data={f"q{attempt.drawn[0]['q']}": str(position)})
    assert r.status_code == 302
    result = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "通过" in result and "见党章总纲" in result
    assert ledger.total_hours(s["member"]) == 0.5


def test_outsider_gets_404(client, auth, s):
    auth.login(s["outsider"].username)
    assert client.get(f"/quiz/{s['quiz'].id}").status_code == 404
    assert client.post(f"/quiz/{s['quiz'].id}/start").status_code == 404
    assert "小测" not in client.get("/quiz/").get_data(as_text=True)


def test_attempts_of_others_are_404(client, auth, s):
    auth.login(s["member"].username)
    client.post(f"/quiz/{s['quiz'].id}/start")
    attempt = quizzes.attempts_of(s["member"], s["quiz"])[0]
    auth.logout()
    auth.login(s["outsider"].username)
    assert client.get(f"/quiz/attempt/{attempt.id}").status_code == 404
    assert client.get(f"/quiz/attempt/{attempt.id}/result").status_code == 404


def test_true_false_options_are_shown_in_the_readers_language(client, auth, make_course, make_user, make_org,
                                                              publish):
    lecturer = make_user(role="lecturer")
    course = make_course(lecturer=lecturer)
    member = make_user(org=make_org(sector="rural"))
    publish([course], sectors=["rural"])
    quizzes.add_question(lecturer, course, kind="truefalse", text="党员应当按期交纳党费", options=[], correct=[0])
    quiz = quizzes.save_quiz(lecturer, course, title="判断", question_count=1, pass_percent=100, max_attempts=2,
                             time_limit_minutes=None, hours=0.5, published=True)
    auth.login(member.username)
    start = client.post(f"/quiz/{quiz.id}/start")
    zh = client.get(start.headers["Location"]).get_data(as_text=True)
    assert "> 正确</label>" in zh and "> 错误</label>" in zh
    client.post("/auth/locale/en", data={"next": "/"})
    en = client.get(start.headers["Location"]).get_data(as_text=True)
    assert "> True</label>" in en and "> False</label>" in en and "正确" not in en
    client.post("/auth/logout")
    auth.login(lecturer.username)
    client.post("/auth/locale/en", data={"next": "/"})
    bank = client.get(f"/quiz/course/{course.id}/bank").get_data(as_text=True)
    assert "1. True ✓" in bank and "2. False" in bank


def test_lecturer_revises_a_question_and_past_attempts_keep_the_old_one(client, auth, s):
    from elearn.audit.models import AuditEntry
    old = db.session.query(Question).filter_by(text="党的根本宗旨").one()
    # A member answers the old version first.
    auth.login(s["member"].username)
    start = client.post(f"/quiz/{s['quiz'].id}/start")
    attempt = quizzes.attempts_of(s["member"], s["quiz"])[0]
    client.post(f"/quiz/attempt/{attempt.id}", data={f"q{old.id}": str(attempt.drawn[0]["order"].index(0))})
    client.post("/auth/logout")
    assert start.status_code == 302
    auth.login(s["member"].username)
    assert client.get(f"/quiz/question/{old.id}/edit").status_code == 404  # not the lecturer's page
    client.post("/auth/logout")
    auth.login(s["lecturer"].username)
    form = client.get(f"/quiz/question/{old.id}/edit").get_data(as_text=True)
    assert 'value="全心全意为人民服务"' in form and re.search(r'name="q-correct" value="0"[^>]*checked', form)
    assert not re.search(r'name="q-correct" value="1"[^>]*checked', form)
    bad = client.post(f"/quiz/question/{old.id}/edit", data={
        "q-kind": "single", "q-text": "改", "q-options-0": "甲", "q-options-1": "乙", "q-correct": ["0", "1"],
        "q-submit": "1"})
    assert bad.status_code == 400 and db.session.get(Question, old.id).active  # nothing changed
    r = client.post(f"/quiz/question/{old.id}/edit", data={
        "q-kind": "single", "q-text": "中国共产党的根本宗旨是什么？", "q-options-0": "全心全意为人民服务",
        "q-options-1": "其他", "q-correct": "0", "q-explanation": "见党章总纲", "q-submit": "1"})
    assert r.status_code == 302
    db.session.expire_all()
    assert not db.session.get(Question, old.id).active
    new = db.session.query(Question).filter_by(active=True, course_id=s["course"].id).one()
    assert new.text == "中国共产党的根本宗旨是什么？" and new.correct == [0]
    assert "中国共产党的根本宗旨是什么？" in client.get(f"/quiz/course/{s['course'].id}/bank").get_data(as_text=True)
    entry = db.session.query(AuditEntry).filter_by(action="quiz.question.revise").one()
    assert entry.before["id"] == old.id and entry.after["text"] == new.text
    assert client.get(f"/quiz/question/{old.id}/edit").status_code == 404  # retired
    client.post("/auth/logout")
    auth.login(s["member"].username)
    result = client.get(f"/quiz/attempt/{attempt.id}/result").get_data(as_text=True)
    assert "党的根本宗旨" in result and "中国共产党的根本宗旨是什么？" not in result
