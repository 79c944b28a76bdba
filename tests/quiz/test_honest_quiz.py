"""Quizzes as a script and a careless member would take them, through the pages: parallel submissions of one
attempt, a blank answer sheet, and when the correct answers show."""
from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select

from elearn.extensions import db
from elearn.ledger.models import StudyCredit
from elearn.quiz import services as quizzes
from elearn.quiz.models import QuizAttempt
from tests.conftest import PASSWORD, CSRFClient


@pytest.fixture
def s(make_org, make_user, make_course, publish):
    lecturer = make_user("lect", role="lecturer")
    course = make_course(lecturer=lecturer)
    org = make_org(sector="rural")
    member = make_user("member1", org=org)
    publish([course], sectors=["rural"])
    for i in range(3):
        quizzes.add_question(lecturer, course, kind="single", text=f"题{i}", options=["甲", "乙"], correct=[0],
                             explanation=f"解析{i}")
    quiz = quizzes.save_quiz(lecturer, course, title="一次机会", question_count=3, pass_percent=100,
                             max_attempts=2, time_limit_minutes=None, hours=1.0, published=True)
    return {"member": member, "quiz": quiz, "course": course, "lecturer": lecturer}


def _start(client, quiz) -> int:
    r = client.post(f"/quiz/{quiz.id}/start")
    return int(re.search(r"/quiz/attempt/(\d+)", r.headers["Location"]).group(1))


def _sheet(attempt_id, pick) -> dict:
    """Form fields answering every drawn question with ``pick(question, shown options)``."""
    attempt = db.session.get(QuizAttempt, attempt_id)
    qs = quizzes._questions(attempt)
    return {f"q{d['q']}": str(pick(qs[d["q"]], d["order"])) for d in attempt.drawn}


def _right(q, order):
    return order.index(q.correct[0])


def _wrong(q, order):
    return 1 - order.index(q.correct[0])


def test_parallel_submissions_of_one_attempt_are_graded_once(app, s):
    """A script posts ten answer sheets to one attempt at the same moment, hoping one passes: exactly one is
    graded, and the others change nothing."""
    clients = []
    for _ in range(10):
        c = app.test_client()
        assert isinstance(c, CSRFClient)
        c.post("/auth/login", data={"username": "member1", "password": PASSWORD})
        clients.append(c)
    attempt_id = _start(clients[0], s["quiz"])
    sheets = [_sheet(attempt_id, _right if k == 9 else _wrong) for k in range(10)]
    member_id = s["member"].id
    db.session.remove()
    barrier = threading.Barrier(len(clients))
    statuses = []

    def submit(client, sheet):
        barrier.wait()
        r = client.post(f"/quiz/attempt/{attempt_id}", data=sheet)
        statuses.append(r.status_code)

    threads = [threading.Thread(target=submit, args=(c, sheet)) for c, sheet in zip(clients, sheets, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(code < 500 for code in statuses), statuses
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert attempt.submitted_at is not None
    credits = db.session.scalars(select(StudyCredit).where(StudyCredit.user_id == member_id)).all()
    assert len(credits) == (1 if attempt.passed else 0)
    # The graded sheet is the one stored: its score agrees with its answers.
    qs = quizzes._questions(attempt)
    right = sum(attempt.answers[str(d["q"])] == qs[d["q"]].correct for d in attempt.drawn)
    assert attempt.score_percent == round(100.0 * right / 3, 1)


def test_a_blank_sheet_asks_first_and_keeps_the_answers(client, auth, s):
    auth.login("member1")
    attempt_id = _start(client, s["quiz"])
    sheet = _sheet(attempt_id, _right)
    first = next(iter(sheet))
    partial = {first: sheet[first]}
    r = client.post(f"/quiz/attempt/{attempt_id}", data=partial)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "还有 2 题未作答" in page
    assert re.search(rf'name="{first}" value="{sheet[first]}" checked', page)
    db.session.expire_all()
    assert db.session.get(QuizAttempt, attempt_id).submitted_at is None
    r = client.post(f"/quiz/attempt/{attempt_id}", data={**partial, "confirm_blank": "1"})
    assert r.status_code in (302, 303)
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert attempt.submitted_at is not None and attempt.passed is False


@pytest.mark.parametrize("setting, after_first, after_last", [
    ("final", False, True), ("each", True, True), ("never", False, False)])
def test_correct_answers_show_as_the_quiz_says(client, auth, s, setting, after_first, after_last):
    quizzes.save_quiz(s["lecturer"], s["course"], s["quiz"], title="一次机会", question_count=3, pass_percent=100,
                      max_attempts=2, time_limit_minutes=None, hours=1.0, published=True, show_answers=setting)
    auth.login("member1")
    for shown in (after_first, after_last):
        attempt_id = _start(client, s["quiz"])
        client.post(f"/quiz/attempt/{attempt_id}", data=_sheet(attempt_id, _wrong))
        page = client.get(f"/quiz/attempt/{attempt_id}/result").get_data(as_text=True)
        assert ("· 正确答案" in page and "解析：" in page) is shown, (setting, page)
        assert "您的选择" in page


def test_the_setting_is_chosen_on_the_bank_page(client, auth, s):
    auth.login("lect")
    r = client.post(f"/quiz/course/{s['course'].id}/bank", data={
        "z-title": "新测验", "z-question_count": 3, "z-pass_percent": 60, "z-max_attempts": 1, "z-hours": "0.5",
        "z-show_answers": "never", "z-published": "y", "z-submit": "保存测验"})
    assert r.status_code in (302, 303)
    made = [q for q in quizzes.quizzes_of(s["course"], published_only=False) if q.title == "新测验"]
    assert made and made[0].show_answers == "never"


def test_answers_shown_by_one_quiz_do_not_answer_another_of_the_same_bank(client, auth, s):
    """Two quizzes draw from the course's one bank: quiz A shows answers after each attempt, quiz B never.
    A's answers stay hidden while B keeps them; once B is gone too, A shows them."""
    quizzes.save_quiz(s["lecturer"], s["course"], s["quiz"], title="一次机会", question_count=3, pass_percent=100,
                      max_attempts=2, time_limit_minutes=None, hours=1.0, published=True, show_answers="each")
    never = quizzes.save_quiz(s["lecturer"], s["course"], title="期末", question_count=3, pass_percent=100,
                              max_attempts=1, time_limit_minutes=None, hours=1.0, published=True,
                              show_answers="never")
    auth.login("member1")
    attempt_id = _start(client, s["quiz"])
    client.post(f"/quiz/attempt/{attempt_id}", data=_sheet(attempt_id, _wrong))
    page = client.get(f"/quiz/attempt/{attempt_id}/result").get_data(as_text=True)
    assert "· 正确答案" not in page and "您的选择" in page
    quizzes.save_quiz(s["lecturer"], s["course"], never, title="期末", question_count=3, pass_percent=100,
                      max_attempts=1, time_limit_minutes=None, hours=1.0, published=False, show_answers="never")
    page = client.get(f"/quiz/attempt/{attempt_id}/result").get_data(as_text=True)
    assert "· 正确答案" in page
