"""The course page links its readings and published quizzes; the lesson player gets ?t= from search hits."""
from __future__ import annotations

from pathlib import Path

import pytest

from elearn.extensions import db
from elearn.media.models import MediaAsset
from elearn.quiz import services as quizzes
from elearn.readings import services as readings

PLAN = (Path(__file__).resolve().parent.parent / "data" / "plan-excerpt.txt").read_bytes()


@pytest.fixture
def s(make_org, make_user, make_course, make_lesson, publish):
    lecturer = make_user("lect", role="lecturer")
    member = make_user("member1", org=make_org(sector="rural"))
    make_user("outsider", org=make_org(sector="community"))
    course = make_course(title="党史课", lecturer=lecturer)
    lesson = make_lesson(course=course, title="第一讲")
    admin = make_user("admin1", role="site_admin")
    reading = readings.upload(admin, PLAN, "plan.txt", title="学习纲要", course=course)
    publish([course], sectors=["rural"])
    quizzes.add_question(lecturer, course, kind="single", text="党的根本宗旨", options=["全心全意为人民服务", "其他"],
                         correct=[0])
    quiz = quizzes.save_quiz(lecturer, course, title="结业测验", question_count=1, pass_percent=100,
                             max_attempts=2, time_limit_minutes=None, hours=0.5, published=True)
    draft = quizzes.save_quiz(lecturer, course, title="草稿测验", question_count=1, pass_percent=60,
                              max_attempts=1, time_limit_minutes=None, hours=0.5, published=False)
    return {"course": course, "lesson": lesson, "reading": reading, "quiz": quiz, "draft": draft,
            "member": member, "lecturer": lecturer}


def test_course_page_links_readings_and_published_quizzes(client, auth, s):
    auth.login("member1")
    html = client.get(f"/learn/courses/{s['course'].id}").get_data(as_text=True)
    assert f'href="/readings/{s["reading"].id}"' in html and "学习纲要" in html
    assert f'href="/quiz/{s["quiz"].id}"' in html and "结业测验" in html
    assert "草稿测验" not in html and f'href="/quiz/{s["draft"].id}"' not in html
    # The links lead somewhere the member may go.
    assert client.get(f"/readings/{s['reading'].id}").status_code == 200
    assert client.get(f"/quiz/{s['quiz'].id}").status_code == 200


def _answers(attempt, *, right: bool) -> dict[int, list[int]]:
    """Shown positions choosing the right option (original index 0 here) or a wrong one."""
    return {d["q"]: [d["order"].index(0 if right else 1)] for d in attempt.drawn}


def _quiz_list(html: str) -> str:
    start = html.index('<ul class="quiz-list">')
    return html[start:html.index("</ul>", start)]


def test_course_page_shows_the_members_attempts(client, auth, s):
    member, quiz = s["member"], s["quiz"]
    attempt = quizzes.start_attempt(member, quiz)
    quizzes.submit(member, attempt, _answers(attempt, right=False))
    auth.login("member1")
    html = _quiz_list(client.get(f"/learn/courses/{s['course'].id}").get_data(as_text=True))
    assert "已作答 1 / 2 次" in html and "已通过" not in html
    attempt = quizzes.start_attempt(member, quiz)
    quizzes.submit(member, attempt, _answers(attempt, right=True))
    html = _quiz_list(client.get(f"/learn/courses/{s['course'].id}").get_data(as_text=True))
    assert "已通过" in html and "已作答" not in html


def test_course_page_stays_404_outside_the_audience(client, auth, s):
    auth.login("outsider")
    assert client.get(f"/learn/courses/{s['course'].id}").status_code == 404


def _ready_asset(lesson, lecturer, duration=120.0):
    asset = MediaAsset(lesson_id=lesson.id, uploaded_by_id=lecturer.id, status="ready", progress=1.0,
                       duration_s=duration, segment_seconds=6.0, output_key="media/x", renditions=[])
    db.session.add(asset)
    db.session.flush()
    lesson.asset_id = asset.id
    db.session.commit()
    return asset


@pytest.mark.parametrize("query, expected", [
    ("?t=42", 'data-start-at="42.0"'),
    ("?t=0", 'data-start-at="0.0"'),
    ("?t=9999", 'data-start-at="120.0"'),  # clipped to the media
    ("?t=abc", 'data-start-at=""'),
    ("?t=-5", 'data-start-at=""'),
    ("?t=nan", 'data-start-at=""'),
    ("", 'data-start-at=""'),
])
def test_lesson_player_gets_the_search_hit_time(client, auth, s, query, expected):
    _ready_asset(s["lesson"], s["lecturer"])
    auth.login("member1")
    response = client.get(f"/learn/lessons/{s['lesson'].id}{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert expected in html and "data-resume-position=" in html and "data-msg-start-at=" in html

