"""A course's learner statistics in the studio, checked against a small world built for it: two members, one
completes the course and passes its quiz, the other watches a little and fails; one question waits."""
import re

import pytest

from elearn import clock
from elearn.community import discussion
from elearn.extensions import db
from elearn.quiz import services as quizzes
from elearn.quiz.models import QuizAttempt
from elearn.study.models import WatchProgress


def _watch(user, lesson, seconds, completed=False):
    db.session.add(WatchProgress(user_id=user.id, lesson_id=lesson.id, intervals=[[0, seconds]], watched_s=seconds,
                                 position_s=seconds, completed_at=clock.now_utc() if completed else None))


def _attempt(user, quiz, number, passed):
    now = clock.now_utc()
    db.session.add(QuizAttempt(quiz_id=quiz.id, user_id=user.id, number=number, drawn=[], answers={},
                               started_at=now, submitted_at=now, score_percent=100.0 if passed else 0.0,
                               passed=passed))


@pytest.fixture
def w(make_org, make_user, make_course, make_lesson, publish):
    lecturer = make_user(role="lecturer")
    course = make_course(lecturer=lecturer, title="基层治理")
    first = make_lesson(course=course, duration=60, position=1)
    second = make_lesson(course=course, duration=40, position=2)
    make_lesson(course=course, position=3)  # no video yet: not counted
    org = make_org(sector="rural")
    done, trying = make_user(org=org), make_user(org=org)
    publish([course], sectors=["rural"])
    _watch(done, first, 75, completed=True)  # more than the lesson's length counts as its length
    _watch(done, second, 40, completed=True)
    _watch(trying, first, 20)
    _watch(lecturer, first, 60, completed=True)  # the lecturer's own preview is not a learner
    quizzes.add_question(lecturer, course, kind="truefalse", text="题", options=[], correct=[0])
    quiz = quizzes.save_quiz(lecturer, course, title="课后测验", question_count=1, pass_percent=60, max_attempts=3,
                             time_limit_minutes=None, hours=0.5, published=True)
    _attempt(trying, quiz, 1, passed=False)
    _attempt(done, quiz, 1, passed=False)
    _attempt(done, quiz, 2, passed=True)
    db.session.commit()
    discussion.ask(trying, first.id, "第二讲什么时候上线？")
    return {"lecturer": lecturer, "course": course, "org": org, "first": first, "quiz": quiz,
            "other": make_user(role="lecturer"), "member": done, "admin": make_user(role="site_admin"),
            "make_user": make_user}


def _figures(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="([\w-]+)">([^<]*)<', page))


def test_the_lecturer_sees_the_figures_from_the_studio(client, auth, w, count_queries):
    auth.login(w["lecturer"].username)
    course_page = client.get(f"/studio/courses/{w['course'].id}").get_data(as_text=True)
    url = f"/studio/courses/{w['course'].id}/learners"
    assert url in course_page and f"/quiz/course/{w['course'].id}/bank" in course_page
    with count_queries() as n:
        r = client.get(url)
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    # started 2; completed 1; coverage (100 % + 20 %) / 2; quiz: 1 of 2 members passed; one question waits.
    assert _figures(page) == {"started": "2", "completed": "1", "coverage": "60%", "pass-rate": "50%",
                              "waiting": "1"}
    assert f"/community/courses/{w['course'].id}/questions" in page
    assert re.search(r"课后测验</td>\s*<td>2</td><td>1</td><td>50%</td>", page)
    bank = client.get(f"/quiz/course/{w['course'].id}/bank").get_data(as_text=True)
    assert url in bank and f'href="/studio/courses/{w["course"].id}"' in bank  # and back
    # No query per learner: three more learners cost no more queries.
    for _ in range(3):
        _watch(w["make_user"](org=w["org"]), w["first"], 30)
    db.session.commit()
    with count_queries() as again:
        page = client.get(url).get_data(as_text=True)
    assert _figures(page)["started"] == "5" and again[0] == n[0] <= 12, (n[0], again[0])


def test_an_empty_course_shows_dashes_not_errors(client, auth, make_user, make_course):
    lecturer = make_user(role="lecturer")
    course = make_course(lecturer=lecturer, status="draft")
    auth.login(lecturer.username)
    r = client.get(f"/studio/courses/{course.id}/learners")
    assert r.status_code == 200
    assert _figures(r.get_data(as_text=True)) == {"started": "0", "completed": "0", "coverage": "—",
                                                  "pass-rate": "—", "waiting": "0"}


def test_only_the_courses_lecturer_and_site_admins_see_the_figures(client, auth, w):
    url = f"/studio/courses/{w['course'].id}/learners"
    for who, status in (("other", 404), ("member", 403), ("admin", 200)):
        auth.login(w[who].username)
        assert client.get(url).status_code == status, who
        auth.logout()
    auth.login(w["lecturer"].username)
    assert client.get("/studio/courses/987654/learners").status_code == 404
