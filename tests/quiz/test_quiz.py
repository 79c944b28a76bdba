"""Quizzes: bank validation, random draw with shuffled options, server-side grading, limits, credit."""
import random
from datetime import timedelta

import pytest

from elearn import clock
from elearn.errors import NotFound, ServiceError
from elearn.ledger import services as ledger
from elearn.quiz import services as quizzes


@pytest.fixture
def s(make_org, make_user, make_course, publish):
    lecturer = make_user(role="lecturer")
    course = make_course(lecturer=lecturer)
    org = make_org(sector="rural")
    member = make_user(org=org)
    publish([course], sectors=["rural"])
    for i in range(6):
        quizzes.add_question(lecturer, course, kind="single", text=f"题{i}", options=["甲", "乙", "丙", "丁"],
                             correct=[i % 4], explanation=f"解析{i}")
    quizzes.add_question(lecturer, course, kind="multiple", text="多选", options=["a", "b", "c"], correct=[0, 2])
    quizzes.add_question(lecturer, course, kind="truefalse", text="判断", options=[], correct=[0])
    quiz = quizzes.save_quiz(lecturer, course, title="测验一", question_count=5, pass_percent=60, max_attempts=2,
                             time_limit_minutes=None, hours=1.0, published=True)
    return {"lecturer": lecturer, "course": course, "member": member, "quiz": quiz}


def right_answers(attempt):
    """The shown positions of the correct options (a test peeks at the server's answers)."""
    qs = quizzes._questions(attempt)
    return {d["q"]: [pos for pos, k in enumerate(d["order"]) if k in qs[d["q"]].correct] for d in attempt.drawn}


@pytest.mark.parametrize("kind, options, correct", [
    ("single", ["a"], [0]), ("single", ["a", "b"], [0, 1]), ("multiple", ["a", "b"], []),
    ("single", ["a", "b"], [5]), ("essay", ["a", "b"], [0]), ("single", ["a", "a"], [0]),
])
def test_bank_validation(s, kind, options, correct):
    with pytest.raises(ServiceError):
        quizzes.add_question(s["lecturer"], s["course"], kind=kind, text="x", options=options, correct=correct)


def test_only_the_courses_lecturer_edits_the_bank(s, make_user):
    with pytest.raises(NotFound):
        quizzes.add_question(make_user(role="lecturer"), s["course"], kind="truefalse", text="x", options=[],
                             correct=[0])
    with pytest.raises(NotFound):
        quizzes.add_question(s["member"], s["course"], kind="truefalse", text="x", options=[], correct=[0])


def test_cannot_publish_with_too_small_a_bank(s):
    with pytest.raises(ServiceError):
        quizzes.save_quiz(s["lecturer"], s["course"], title="大", question_count=50, pass_percent=60,
                          max_attempts=1, time_limit_minutes=None, hours=1, published=True)


def test_draw_is_random_and_shuffled_and_stored(s):
    a = quizzes.start_attempt(s["member"], s["quiz"], rng=random.Random(1))
    assert len(a.drawn) == 5 and len({d["q"] for d in a.drawn}) == 5
    assert quizzes.start_attempt(s["member"], s["quiz"]).id == a.id  # the open attempt is resumed
    shown = quizzes.attempt_questions(a)
    assert all(not hasattr(q, "correct") for q in shown)
    orders = [d["order"] for d in a.drawn if len(d["order"]) == 4]
    assert any(o != sorted(o) for o in orders)  # at least one shuffled (seeded)


def test_grading_on_the_server_and_credit_once(s):
    a = quizzes.start_attempt(s["member"], s["quiz"], rng=random.Random(2))
    quizzes.submit(s["member"], a, right_answers(a))
    assert a.score_percent == 100 and a.passed
    assert ledger.total_hours(s["member"]) == 1.0
    with pytest.raises(ServiceError):
        quizzes.submit(s["member"], a, right_answers(a))
    with pytest.raises(ServiceError) as err:
        quizzes.start_attempt(s["member"], s["quiz"])
    assert err.value.code == "already_passed"


def test_wrong_answers_fail_and_are_explained(s):
    a = quizzes.start_attempt(s["member"], s["quiz"], rng=random.Random(3))
    wrong = {q: [(p[0] + 1) % len(d["order"])] for (q, p), d in zip(right_answers(a).items(), a.drawn, strict=True)}
    quizzes.submit(s["member"], a, wrong)
    assert a.score_percent == 0 and a.passed is False
    # By default the answers wait for a pass or the last attempt: the member sees only their own choices.
    review = quizzes.attempt_result(a)
    assert all(r.right is None and not r.explanation for r in review)
    assert all(o.correct is None for r in review for o in r.options)
    assert all(any(o.chosen for o in r.options) for r in review)
    s["quiz"].show_answers = "each"
    review = quizzes.attempt_result(a)
    assert all(r.right is False for r in review)
    assert all(any(o.correct for o in r.options) and any(o.chosen for o in r.options) for r in review)
    assert ledger.total_hours(s["member"]) == 0


def test_attempt_limit(s):
    for _ in range(2):
        a = quizzes.start_attempt(s["member"], s["quiz"])
        quizzes.submit(s["member"], a, {})
    with pytest.raises(ServiceError) as err:
        quizzes.start_attempt(s["member"], s["quiz"])
    assert err.value.code == "no_attempts_left"


def test_time_limit_is_enforced_by_the_server(s):
    quiz = quizzes.save_quiz(s["lecturer"], s["course"], title="限时", question_count=3, pass_percent=50,
                             max_attempts=3, time_limit_minutes=1, hours=0.5, published=True)
    t0 = clock.now_utc()
    a = quizzes.start_attempt(s["member"], quiz, now=t0)
    quizzes.submit(s["member"], a, right_answers(a), now=t0 + timedelta(minutes=5))
    assert a.expired and a.passed is False and a.score_percent == 0
    b = quizzes.start_attempt(s["member"], quiz, now=t0 + timedelta(minutes=6))
    quizzes.submit(s["member"], b, right_answers(b), now=t0 + timedelta(minutes=6, seconds=50))
    assert b.passed


def test_results_only_after_submission_and_only_ones_own(s, make_user):
    a = quizzes.start_attempt(s["member"], s["quiz"])
    with pytest.raises(ServiceError):
        quizzes.attempt_result(a)
    with pytest.raises(NotFound):
        quizzes.get_attempt_for(make_user(), a.id)


def test_members_outside_the_audience_and_unpublished_quizzes_are_404(s, make_user, make_org):
    outsider = make_user(org=make_org(sector="community"))
    with pytest.raises(NotFound):
        quizzes.get_quiz_for(outsider, s["quiz"].id)
    draft = quizzes.save_quiz(s["lecturer"], s["course"], title="草稿", question_count=1, pass_percent=60,
                              max_attempts=1, time_limit_minutes=None, hours=1, published=False)
    with pytest.raises(NotFound):
        quizzes.get_quiz_for(s["member"], draft.id)


def test_bad_answers_are_refused(s):
    a = quizzes.start_attempt(s["member"], s["quiz"])
    qid = a.drawn[0]["q"]
    with pytest.raises(ServiceError):
        quizzes.submit(s["member"], a, {qid: [99]})


def test_an_open_attempt_is_graded_against_the_version_it_drew(s):
    from elearn.extensions import db
    from elearn.quiz.models import Question
    attempt = quizzes.start_attempt(s["member"], s["quiz"], rng=random.Random(3))
    answers = right_answers(attempt)
    drawn = db.session.get(Question, attempt.drawn[0]["q"])
    # The lecturer changes the first drawn question's right answer while the member is answering.
    options = list(drawn.options) if drawn.kind != "truefalse" else []
    wrong = [(drawn.correct[0] + 1) % len(drawn.options)]
    new = quizzes.revise_question(s["lecturer"], drawn, kind=drawn.kind, text=drawn.text + "（改）",
                                  options=options, correct=wrong)
    assert new.id != drawn.id and not db.session.get(Question, drawn.id).active
    done = quizzes.submit(s["member"], attempt, answers)
    assert done.score_percent == 100 and done.passed  # graded as the member saw it
    # Saving the same change again (a double click) finds the old version retired and adds nothing.
    with pytest.raises(ServiceError):
        quizzes.revise_question(s["lecturer"], db.session.get(Question, drawn.id), kind=drawn.kind,
                                text="再改", options=options, correct=wrong)
    assert db.session.query(Question).filter_by(course_id=s["course"].id, active=True).count() == 8
