"""Quizzes through the API: draw, answer, result — the attempt limit, grading, crediting and hiding of answers
are the quiz pages' own, whichever way an attempt is started and answered."""
import pytest

from elearn.auth import tokens
from elearn.ledger import services as ledger
from elearn.quiz import services as quizzes


@pytest.fixture
def s(make_org, make_user, make_course, publish):
    lecturer = make_user(role="lecturer")
    course = make_course(lecturer=lecturer)
    member = make_user("quizzer", org=make_org(sector="rural"))
    outsider = make_user("stranger", org=make_org(sector="community"))
    publish([course], sectors=["rural"])
    quizzes.add_question(lecturer, course, kind="single", text="党的根本宗旨", options=["全心全意为人民服务", "其他"],
                         correct=[0], explanation="见党章总纲")
    quizzes.add_question(lecturer, course, kind="multiple", text="三会一课包括",
                         options=["支部党员大会", "党课", "茶话会"], correct=[0, 1])
    quiz = quizzes.save_quiz(lecturer, course, title="小测", question_count=2, pass_percent=100, max_attempts=2,
                             time_limit_minutes=None, hours=0.5, published=True)
    return {"lecturer": lecturer, "course": course, "member": member, "outsider": outsider, "quiz": quiz}


def bearer(user, scopes="read study"):
    return {"Authorization": "Bearer " + tokens.issue(user, "test", scopes=scopes)}


def _sheet(attempt_json, right=True):
    """Answers by the questions' texts: the right options (or wrong ones), as positions in the drawn order."""
    wanted = {"党的根本宗旨": {"全心全意为人民服务"} if right else {"其他"},
              "三会一课包括": {"支部党员大会", "党课"}}
    return {"answers": [{"question": q["id"],
                         "choices": [i for i, text in enumerate(q["options"]) if text in wanted[q["text"]]]}
                        for q in attempt_json["questions"]]}


def test_draw_answer_result_with_a_token(client, s):
    headers = bearer(s["member"])
    quiz_url = f"/api/v1/quizzes/{s['quiz'].id}"
    overview = client.get(quiz_url, headers=headers).get_json()
    assert overview["attempts_left"] == 2 and overview["passed"] is False and overview["attempts"] == []
    drawn = client.post(f"{quiz_url}/attempts", headers=headers)
    assert drawn.status_code == 201
    attempt = drawn.get_json()
    assert attempt["state"] == "open" and attempt["number"] == 1 and attempt["review"] is None
    assert {q["text"] for q in attempt["questions"]} == {"党的根本宗旨", "三会一课包括"}
    assert "见党章总纲" not in drawn.get_data(as_text=True) and "correct" not in drawn.get_data(as_text=True)
    # Drawing again gives back the open attempt, not a second one.
    again = client.post(f"{quiz_url}/attempts", headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == attempt["id"]
    answered = client.post(f"/api/v1/attempts/{attempt['id']}/answers", json=_sheet(attempt), headers=headers)
    assert answered.status_code == 200
    result = answered.get_json()
    assert result["state"] == "submitted" and result["passed"] is True and result["score_percent"] == 100
    assert result["answers_shown"] is True and result["questions"] is None
    assert any(q["explanation"] == "见党章总纲" and q["right"] for q in result["review"])
    assert ledger.total_hours(s["member"]) == 0.5
    assert client.get(f"/api/v1/attempts/{attempt['id']}", headers=headers).get_json() == result
    # Passed: no further attempt, and the same answer sheet twice changes nothing.
    refused = client.post(f"{quiz_url}/attempts", headers=headers)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "already_passed"
    twice = client.post(f"/api/v1/attempts/{attempt['id']}/answers", json=_sheet(attempt), headers=headers)
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "already_submitted"
    assert ledger.total_hours(s["member"]) == 0.5


def test_attempt_limit_and_hidden_answers_until_the_last(client, auth, s):
    auth.login("quizzer")
    csrf = {"X-CSRFToken": client.csrf_token()}
    quiz_url = f"/api/v1/quizzes/{s['quiz'].id}"
    first = client.post(f"{quiz_url}/attempts", headers=csrf).get_json()
    failed = client.post(f"/api/v1/attempts/{first['id']}/answers", json=_sheet(first, right=False),
                         headers=csrf).get_json()
    assert failed["passed"] is False and failed["score_percent"] == 50
    # One attempt left: the quiz ("final") keeps its answers to itself.
    assert failed["answers_shown"] is False and all(q["right"] is None and q["explanation"] == ""
                                                    for q in failed["review"])
    assert failed["attempts_left"] == 1
    second = client.post(f"{quiz_url}/attempts", headers=csrf).get_json()
    assert second["number"] == 2
    last = client.post(f"/api/v1/attempts/{second['id']}/answers", json=_sheet(second, right=False),
                       headers=csrf).get_json()
    assert last["answers_shown"] is True and last["attempts_left"] == 0
    over = client.post(f"{quiz_url}/attempts", headers=csrf)
    assert over.status_code == 409 and over.get_json()["error"]["code"] == "no_attempts_left"
    assert client.get(quiz_url).get_json()["attempts_left"] == 0
    assert ledger.total_hours(s["member"]) == 0


def test_cookie_writes_need_the_csrf_header(client, auth, s):
    auth.login("quizzer")
    r = client.post(f"/api/v1/quizzes/{s['quiz'].id}/attempts")
    assert r.status_code in (400, 403)
    assert quizzes.attempts_of(s["member"], s["quiz"]) == []


@pytest.mark.parametrize("sheet", [
    {"answers": [{"question": "x", "choices": [0]}]},
    {"answers": [{"question": 1, "choices": ["0"]}]},
    {"answers": [{"question": 1, "choices": [0], "extra": True}]},
    {"answers": {"1": [0]}},
    {"answers": [{"question": 1, "choices": [99]}]},
    {"answers": [{"question": 1, "choices": [-1]}]},
    [],
    {},
])
def test_a_forged_answer_shape_is_400_and_changes_nothing(client, s, sheet):
    headers = bearer(s["member"])
    attempt = client.post(f"/api/v1/quizzes/{s['quiz'].id}/attempts", headers=headers).get_json()
    r = client.post(f"/api/v1/attempts/{attempt['id']}/answers", json=sheet, headers=headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_answer"
    assert client.get(f"/api/v1/attempts/{attempt['id']}", headers=headers).get_json()["state"] == "open"


def test_answers_outside_the_attempt_or_twice_or_out_of_range_are_400(client, s, make_course):
    headers = bearer(s["member"])
    attempt = client.post(f"/api/v1/quizzes/{s['quiz'].id}/attempts", headers=headers).get_json()
    single = next(q for q in attempt["questions"] if q["kind"] == "single")
    url = f"/api/v1/attempts/{attempt['id']}/answers"
    for sheet in (
        {"answers": [{"question": single["id"] + 1000, "choices": [0]}]},  # not drawn in this attempt
        {"answers": [{"question": single["id"], "choices": [0]}, {"question": single["id"], "choices": [1]}]},
        {"answers": [{"question": single["id"], "choices": [0, 1]}]},  # two answers to a single choice
        {"answers": [{"question": single["id"], "choices": [5]}]},  # beyond its options
    ):
        r = client.post(url, json=sheet, headers=headers)
        assert r.status_code == 400, sheet
        assert r.get_json()["error"]["code"] == "bad_answer"
    assert client.get(f"/api/v1/attempts/{attempt['id']}", headers=headers).get_json()["state"] == "open"
    assert ledger.total_hours(s["member"]) == 0


def test_drawn_by_the_api_answered_on_the_page_and_the_other_way(client, auth, s):
    headers = bearer(s["member"])
    drawn = client.post(f"/api/v1/quizzes/{s['quiz'].id}/attempts", headers=headers).get_json()
    auth.login("quizzer")
    # The page resumes the attempt the API drew.
    start = client.post(f"/quiz/{s['quiz'].id}/start")
    assert start.headers["Location"].endswith(f"/quiz/attempt/{drawn['id']}")
    sheet = _sheet(drawn, right=False)
    form = {f"q{a['question']}": [str(c) for c in a["choices"]] for a in sheet["answers"]}
    assert client.post(f"/quiz/attempt/{drawn['id']}", data=form).status_code == 302
    graded = client.get(f"/api/v1/attempts/{drawn['id']}", headers=headers).get_json()
    assert graded["state"] == "submitted" and graded["passed"] is False
    # The second (last) attempt drawn on the page, answered through the API.
    start = client.post(f"/quiz/{s['quiz'].id}/start")
    second_id = int(start.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    second = client.get(f"/api/v1/attempts/{second_id}", headers=headers).get_json()
    assert second["state"] == "open" and second["number"] == 2
    done = client.post(f"/api/v1/attempts/{second_id}/answers", json=_sheet(second), headers=headers).get_json()
    assert done["passed"] is True and ledger.total_hours(s["member"]) == 0.5
    assert client.post(f"/api/v1/quizzes/{s['quiz'].id}/attempts", headers=headers).status_code == 409


def test_quiz_and_attempts_out_of_reach_are_404(client, s):
    member = bearer(s["member"])
    attempt = client.post(f"/api/v1/quizzes/{s['quiz'].id}/attempts", headers=member).get_json()
    stranger = bearer(s["outsider"])
    quiz_url = f"/api/v1/quizzes/{s['quiz'].id}"
    for method, url in (("get", quiz_url), ("post", f"{quiz_url}/attempts"),
                        ("get", f"/api/v1/attempts/{attempt['id']}"), ("get", "/api/v1/quizzes/99999")):
        r = getattr(client, method)(url, headers=stranger)
        assert r.status_code == 404, url
    r = client.post(f"/api/v1/attempts/{attempt['id']}/answers", json=_sheet(attempt), headers=stranger)
    assert r.status_code == 404
    assert client.get(f"/api/v1/attempts/{attempt['id']}", headers=member).get_json()["state"] == "open"


def test_a_read_only_token_cannot_draw_or_answer(client, s):
    reader = bearer(s["member"], scopes="read")
    r = client.post(f"/api/v1/quizzes/{s['quiz'].id}/attempts", headers=reader)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "insufficient_scope"
    assert client.get(f"/api/v1/quizzes/{s['quiz'].id}", headers=reader).status_code == 200


def test_time_limit_past_the_grace_closes_the_attempt_as_expired(client, s, site_clock):
    quizzes.save_quiz(s["lecturer"], s["course"], s["quiz"], title="小测", question_count=2, pass_percent=100,
                      max_attempts=2, time_limit_minutes=1, hours=0.5, published=True)
    headers = bearer(s["member"])
    attempt = client.post(f"/api/v1/quizzes/{s['quiz'].id}/attempts", headers=headers).get_json()
    assert attempt["remaining_seconds"] == 60 and attempt["deadline"].endswith("Z")
    site_clock.advance(3600)
    late = client.post(f"/api/v1/attempts/{attempt['id']}/answers", json=_sheet(attempt), headers=headers)
    assert late.status_code == 200
    assert late.get_json()["state"] == "expired" and late.get_json()["passed"] is False
    assert ledger.total_hours(s["member"]) == 0
