"""Needs surveys through the pages and the API: building, publishing to a subtree, answering once (forged
answers refused, nothing kept), results with charts, XLSX, the summary for the evaluation report."""
from __future__ import annotations

import io
import threading
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from elearn import clock
from elearn.branch import surveys
from elearn.branch.survey_models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from elearn.extensions import db as _db
from elearn.notify.models import Notification


@pytest.fixture
def world(make_org, make_user):
    county = make_org("县委", county=True)
    town = make_org("镇党委", parent=county)
    east = make_org("东村支部", kind="branch", parent=town)
    other = make_org("外县")
    return {"county": county, "town": town, "east": east, "other": other,
            "countyadmin": make_user("countyadmin", org=county, role="org_admin"),
            "townadmin": make_user("townadmin", org=town, role="org_admin"),
            "otheradmin": make_user("otheradmin", org=other, role="org_admin"),
            "mem1": make_user("mem1", org=east, name="张三"), "mem2": make_user("mem2", org=east, name="李四"),
            "mem3": make_user("mem3", org=town, name="王五"), "outsider": make_user("outsider", org=other)}


def build(client, auth, world, anonymous=False):
    """The town admin builds a three-question survey through the pages and publishes it."""
    auth.login("townadmin")
    r = client.post("/surveys/manage", data={"organisation_id": world["town"].id, "title": "2027年培训需求",
                                             "intro": "请如实填写", **({"anonymous": "y"} if anonymous else {})})
    assert r.status_code == 302
    survey = _db.session.execute(select(Survey)).scalar_one()
    url = f"/surveys/manage/{survey.id}/questions"
    for data in ({"n-kind": "single", "n-text": "最希望的培训方式", "n-options": "线上\n线下\n混合", "n-required": "y"},
                 {"n-kind": "multiple", "n-text": "感兴趣的内容", "n-options": "党史\n理论\n技能", "n-required": "y"},
                 {"n-kind": "text", "n-text": "其他建议"}):
        assert client.post(url, data=data).status_code == 302
    assert client.post(f"/surveys/manage/{survey.id}/status/publish").status_code == 302
    _db.session.expire_all()
    auth.logout()
    return _db.session.get(Survey, survey.id)


def qids(survey):
    return [q.id for q in sorted(survey.questions, key=lambda q: q.position)]


def count(model):
    return _db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_build_reorder_publish_notifies_the_subtree(client, auth, world):
    survey = build(client, auth, world)
    assert survey.status == "open" and survey.opens_on == clock.site_today() and survey.closes_on is not None
    told = set(_db.session.execute(select(Notification.user_id).where(
        Notification.kind == "survey_published")).scalars())
    assert {world["mem1"].id, world["mem2"].id, world["mem3"].id} <= told
    assert world["outsider"].id not in told and world["countyadmin"].id not in told
    # Published: the questions are fixed.
    auth.login("townadmin")
    q1, q2, q3 = qids(survey)
    assert client.post(f"/surveys/manage/{survey.id}/questions/{q3}/up").status_code == 302
    _db.session.expire_all()
    assert qids(survey) == [q1, q2, q3]
    r = client.post(f"/surveys/manage/{survey.id}/questions", data={"n-kind": "text", "n-text": "新题"})
    assert r.status_code == 409 and len(survey.questions) == 3


def test_draft_editor_moves_edits_and_removes(client, auth, world):
    auth.login("townadmin")
    client.post("/surveys/manage", data={"organisation_id": world["town"].id, "title": "草稿"})
    survey = _db.session.execute(select(Survey)).scalar_one()
    url = f"/surveys/manage/{survey.id}"
    client.post(url + "/questions", data={"n-kind": "single", "n-text": "甲", "n-options": "a\nb"})
    client.post(url + "/questions", data={"n-kind": "text", "n-text": "乙"})
    r = client.post(url + "/questions", data={"n-kind": "single", "n-text": "丙", "n-options": "only"})
    assert r.status_code == 400 and "至少要有两个选项" in r.get_data(as_text=True)
    a, b = qids(survey)
    client.post(f"{url}/questions/{b}/up")
    _db.session.expire_all()
    assert qids(survey) == [b, a]
    r = client.post(f"{url}/questions/{a}", data={"text": "甲改", "options": "x\ny\nz", "required": "y"})
    assert r.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(SurveyQuestion, a).options == ["x", "y", "z"]
    client.post(f"{url}/questions/{b}/remove")
    _db.session.expire_all()
    assert qids(survey) == [a]
    assert client.get(url).status_code == 200


def test_member_answers_once_through_the_page(client, auth, world):
    survey = build(client, auth, world)
    q1, q2, q3 = qids(survey)
    auth.login("mem1")
    page = client.get("/surveys/").get_data(as_text=True)
    assert "2027年培训需求" in page
    r = client.post(f"/surveys/{survey.id}", data={f"q{q1}": "1", f"q{q2}": ["0", "2"], f"q{q3}": "多安排晚上"})
    assert r.status_code == 302
    r = client.post(f"/surveys/{survey.id}", data={f"q{q1}": "0", f"q{q2}": ["1"]})
    assert r.status_code == 409 and "已经参加过" in r.get_data(as_text=True)
    assert count(SurveyResponse) == 1
    answers = {a.question_id: a for a in _db.session.execute(select(SurveyAnswer)).scalars()}
    assert answers[q1].choices == [1] and answers[q2].choices == [0, 2] and answers[q3].text == "多安排晚上"


@pytest.mark.parametrize("forged", ["option99", "two_singles", "missing_required", "foreign", "not_a_number",
                                    "huge_text"])
def test_forged_answers_change_nothing(client, auth, world, forged):
    survey = build(client, auth, world)
    q1, q2, q3 = qids(survey)
    other = SurveyQuestion(survey_id=survey.id + 0, kind="single", text="x", options=["a", "b"], position=9)
    stranger = Survey(organisation_id=world["town"].id, title="另一个", created_by_id=world["townadmin"].id,
                      status="draft")
    _db.session.add(stranger)
    _db.session.flush()
    other.survey_id = stranger.id
    _db.session.add(other)
    _db.session.commit()
    good = {f"q{q1}": "0", f"q{q2}": ["1"]}
    data = {"option99": {**good, f"q{q1}": "99"}, "two_singles": {**good, f"q{q1}": ["0", "1"]},
            "missing_required": {f"q{q1}": "0"}, "foreign": {**good, f"q{other.id}": "0"},
            "not_a_number": {**good, f"q{q2}": ["x"]}, "huge_text": {**good, f"q{q3}": "长" * (1024 * 1024)}}[forged]
    auth.login("mem1")
    r = client.post(f"/surveys/{survey.id}", data=data)
    assert r.status_code in (400, 413)
    assert count(SurveyResponse) == 0 and count(SurveyAnswer) == 0


def test_api_forged_answers_and_success(client, auth, world):
    survey = build(client, auth, world)
    q1, q2, q3 = qids(survey)
    auth.login("mem2")
    listing = client.get("/api/v1/surveys").get_json()
    assert [s["id"] for s in listing["items"]] == [survey.id] and listing["items"][0]["answered"] is False
    detail = client.get(f"/api/v1/surveys/{survey.id}").get_json()
    assert [q["id"] for q in detail["questions"]] == [q1, q2, q3]
    url = f"/api/v1/surveys/{survey.id}/response"
    csrf = {"X-CSRFToken": client.csrf_token()}
    bad = [
        {"answers": [{"question_id": q1, "choices": [99]}, {"question_id": q2, "choices": [0]}]},
        {"answers": [{"question_id": q1, "choices": [0]}, {"question_id": q2, "choices": [0]},
                     {"question_id": q3, "text": "x" * (1024 * 1024)}]},
        {"answers": [{"question_id": q1, "choices": [0]}, {"question_id": q2, "choices": [0]},
                     {"question_id": 987654, "choices": [0]}]},
        {"answers": [{"question_id": q1, "choices": [0]}, {"question_id": q1, "choices": [1]},
                     {"question_id": q2, "choices": [0]}]},
        {"answers": "all of them"},
    ]
    for body in bad:
        r = client.post(url, json=body, headers=csrf)
        assert r.status_code in (400, 413), (body if len(str(body)) < 200 else "huge", r.status_code)
        if r.status_code == 400:
            assert r.get_json()["error"]["code"] != "csrf"
    assert count(SurveyResponse) == 0
    ok = {"answers": [{"question_id": q1, "choices": [2]}, {"question_id": q2, "choices": [0, 1]}]}
    r = client.post(url, json=ok, headers=csrf)
    assert r.status_code == 200, r.get_json()
    r = client.post(url, json=ok, headers=csrf)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_answered"
    assert count(SurveyResponse) == 1


def test_outside_the_subtree_and_wrong_roles(client, auth, world):
    survey = build(client, auth, world)
    q1, q2, _q3 = qids(survey)
    auth.login("outsider")
    assert client.get(f"/surveys/{survey.id}").status_code == 404
    assert client.post(f"/surveys/{survey.id}", data={f"q{q1}": "0", f"q{q2}": "0"}).status_code == 404
    assert client.post(f"/api/v1/surveys/{survey.id}/response", json={"answers": [{"question_id": q1, "choices": [0]}]},
                       headers={"X-CSRFToken": client.csrf_token()}).status_code == 404
    assert client.get("/surveys/").status_code == 200 and "2027年培训需求" not in client.get("/surveys/").get_data(
        as_text=True)
    for url in ("/surveys/manage", f"/surveys/manage/{survey.id}", f"/surveys/manage/{survey.id}/results",
                f"/surveys/manage/{survey.id}/results.xlsx"):
        assert client.get(url).status_code == 403
    assert client.post(f"/surveys/manage/{survey.id}/status/close").status_code == 403
    auth.logout()
    auth.login("otheradmin")
    assert client.get(f"/surveys/manage/{survey.id}/results").status_code == 404
    assert client.post(f"/surveys/manage/{survey.id}/status/close").status_code == 404
    assert count(SurveyResponse) == 0 and _db.session.get(Survey, survey.id).status == "open"
    auth.logout()
    auth.login("countyadmin")  # an admin above sees the results
    assert client.get(f"/surveys/manage/{survey.id}/results").status_code == 200


def test_no_answer_after_close_or_past_the_closing_day(client, auth, world, site_clock):
    survey = build(client, auth, world)
    q1, q2, _q3 = qids(survey)
    good = {f"q{q1}": "0", f"q{q2}": "0"}
    site_clock.set_site(datetime.combine(survey.closes_on + timedelta(days=1), datetime.min.time()).replace(hour=9))
    auth.login("mem1")
    r = client.post(f"/surveys/{survey.id}", data=good)
    assert r.status_code == 409 and "已结束" in r.get_data(as_text=True)
    site_clock.set_site(datetime.combine(survey.opens_on, datetime.min.time()).replace(hour=12))
    auth.logout()
    auth.login("townadmin")
    assert client.post(f"/surveys/manage/{survey.id}/status/close").status_code == 302
    auth.logout()
    auth.login("mem1")
    assert client.post(f"/surveys/{survey.id}", data=good).status_code == 409
    assert count(SurveyResponse) == 0


def test_two_concurrent_submissions_leave_one_response(app, client, auth, world):
    survey = build(client, auth, world)
    q1, q2, _q3 = qids(survey)
    survey_id, user_id = survey.id, world["mem1"].id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit():
        with app.app_context():
            from elearn.orgs.models import User

            user = _db.session.get(User, user_id)
            row = _db.session.get(Survey, survey_id)
            barrier.wait()
            try:
                surveys.submit(user, row, {q1: [0], q2: [1]})
                outcomes.append("ok")
            except surveys.Conflict:
                outcomes.append("conflict")
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _db.session.expire_all()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert count(SurveyResponse) == 1 and count(SurveyAnswer) == 2


def test_results_charts_xlsx_and_anonymity(client, auth, world):
    survey = build(client, auth, world, anonymous=True)
    q1, q2, q3 = qids(survey)
    for user, data in (("mem1", {f"q{q1}": "0", f"q{q2}": ["0", "1"], f"q{q3}": "=HYPERLINK(\"x\")"}),
                       ("mem2", {f"q{q1}": "0", f"q{q2}": ["1"]})):
        auth.login(user)
        assert client.post(f"/surveys/{survey.id}", data=data).status_code == 302
        auth.logout()
    auth.login("townadmin")
    html = client.get(f"/surveys/manage/{survey.id}/results").get_data(as_text=True)
    assert 'role="img"' in html and "线上" in html and "100.0%" in html and "2 / 4" in html
    assert "张三" not in html and "=HYPERLINK" in html.replace("&#34;", '"')
    r = client.get(f"/surveys/manage/{survey.id}/results.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    summary = [list(row) for row in wb.worksheets[0].iter_rows(values_only=True)]
    assert list(summary[3][1:4]) == ["线上", 2, 100]
    sheet = list(wb.worksheets[1].iter_rows(values_only=True))
    assert len(sheet) == 3 and "用户名" not in sheet[0]
    texts = [row[-1] for row in sheet[1:]]
    assert '=HYPERLINK("x")' in texts  # kept as text, not a formula
    assert wb.worksheets[1].cell(row=2, column=4).data_type == "s"


def test_named_results_show_who_wrote_what(client, auth, world):
    survey = build(client, auth, world)
    q1, q2, q3 = qids(survey)
    auth.login("mem1")
    client.post(f"/surveys/{survey.id}", data={f"q{q1}": "2", f"q{q2}": ["2"], f"q{q3}": "周末更好"})
    auth.logout()
    auth.login("townadmin")
    html = client.get(f"/surveys/manage/{survey.id}/results").get_data(as_text=True)
    assert "周末更好" in html and "张三" in html


def test_surveys_summary_for_the_evaluation_report(client, auth, world):
    survey = build(client, auth, world)
    q1, q2, _q3 = qids(survey)
    auth.login("mem1")
    client.post(f"/surveys/{survey.id}", data={f"q{q1}": "0", f"q{q2}": "0"})
    today = clock.site_today()
    rows = surveys.surveys_summary(world["county"], today - timedelta(days=5), today)
    assert rows == [{"id": survey.id, "title": "2027年培训需求", "organisation": "镇党委", "opens_on": today,
                     "closes_on": survey.closes_on, "audience": 4, "responses": 1, "response_rate": 0.25}]
    assert surveys.surveys_summary(world["east"], today, today) == []  # published above the branch
    assert surveys.surveys_summary(world["county"], date(2000, 1, 1), date(2000, 12, 31)) == []
