"""The age-friendly mode (适老化): switched from the account menu of any page, from its settings page or through
``PATCH /api/v1/me``, kept on the account across sign-ins; its pages carry ``<html class="elder">`` and its home is
the short version (continue learning, hours in words, required series due, unread notifications; no
recommendations or bars). An exempt member sees their status in words, without bars or pace, in both modes."""
from datetime import timedelta

import pytest

from elearn import clock
from elearn.extensions import db
from elearn.ledger import services as ledger
from elearn.notify import services as notify
from elearn.study.models import PlaybackSession, WatchProgress
from tests.api.conftest import bearer

ELDER = 'class="elder"'


def _credit(user, hours, *, theory, source_id):
    ledger.credit(user, kind="lesson", source_kind="test", source_id=source_id, hours=hours,
                  title=f"学习记录{source_id}", category="political_theory", innovative_theory=theory)
    db.session.commit()


def _switch(client, mode, **extra):
    return client.post("/account/age-friendly", data={"mode": mode, **extra})


def test_the_menu_switches_the_mode_which_is_kept_across_sign_in(client, auth, make_user):
    m = make_user("af_member")
    auth.login("af_member")
    page = client.get("/me/").get_data(as_text=True)
    assert ELDER not in page and 'name="mode" value="on"' in page and "开启适老模式" in page
    # The account menu's form posts the choice and returns to the page it was on.
    r = _switch(client, "on", next="/me/?")
    assert r.status_code == 302 and r.headers["Location"] == "/me/"
    db.session.refresh(m)
    assert m.age_friendly is True
    page = client.get("/me/").get_data(as_text=True)
    assert f'<html lang="zh-CN" {ELDER}>' in page and 'name="mode" value="off"' in page and "关闭适老模式" in page
    # Kept on the account: a new sign-in (another device) finds it on.
    auth.logout()
    assert ELDER not in client.get("/auth/login").get_data(as_text=True)
    auth.login("af_member")
    assert ELDER in client.get("/").get_data(as_text=True)
    # Off again from its settings page; a link elsewhere is not followed.
    r = _switch(client, "off", next="//evil.example/")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    db.session.refresh(m)
    assert m.age_friendly is False and ELDER not in client.get("/").get_data(as_text=True)


def test_a_mangled_choice_is_refused_with_a_message_and_changes_nothing(client, auth, make_user):
    m = make_user("af_bad")
    auth.login("af_bad")
    for data in ({}, {"mode": ""}, {"mode": "yes"}, {"mode": "ON"}, {"mode": "1"}):
        r = client.post("/account/age-friendly", data=data)
        assert r.status_code == 400 and "请选择开启或关闭适老模式。" in r.get_data(as_text=True), data
    db.session.refresh(m)
    assert m.age_friendly is False


def test_signed_out_nobody_can_switch(client, make_user):
    make_user("af_anon")
    r = _switch(client, "on")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    assert client.patch("/api/v1/me", json={"age_friendly": True}).status_code == 401


def test_the_api_reads_and_switches_the_mode(client, make_user):
    m = make_user("af_api")
    h = bearer(m)
    assert client.get("/api/v1/me", headers=h).get_json()["age_friendly"] is False
    r = client.patch("/api/v1/me", headers=h, json={"age_friendly": True})
    assert r.status_code == 200 and r.get_json()["age_friendly"] is True and r.get_json()["username"] == "af_api"
    db.session.refresh(m)
    assert m.age_friendly is True
    # Not a boolean, another field smuggled beside it, no body: 400, nothing changed.
    for body in ({"age_friendly": "false"}, {"age_friendly": 0}, {"age_friendly": False, "role": "site_admin"}, {}):
        r = client.patch("/api/v1/me", headers=h, json=body)
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_payload", body
    db.session.refresh(m)
    assert m.age_friendly is True and m.role == "member"
    # A token that may only read cannot change it.
    r = client.patch("/api/v1/me", headers=bearer(m, "read"), json={"age_friendly": False})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "insufficient_scope"


@pytest.fixture
def studying(make_org, make_user, make_course, make_lesson, publish):
    """A rural member mid-way through a required series' first lesson, short of the theory share (so the full
    home recommends theory courses), with an unread notification."""
    rural = make_org(sector="rural")
    m = make_user("af_home", org=rural)
    theory = make_course(title="创新理论必修课", theory=True)
    lesson = make_lesson(course=theory, title="第一讲", duration=600, position=0)
    make_lesson(course=theory, title="第二讲", duration=600, position=1)
    publish([theory], sectors=["rural"], required=True, due_on=clock.site_today() + timedelta(days=10),
            title="农村必修专题")
    publish([make_course(title="创新理论选修课", theory=True)], orgs=[(rural, True)], title="组织选修专题")
    now = clock.now_utc()
    db.session.add(PlaybackSession(id="af-1", user_id=m.id, lesson_id=lesson.id, started_at=now, last_report_at=now))
    db.session.add(WatchProgress(user_id=m.id, lesson_id=lesson.id, intervals=[[0, 125]], watched_s=125,
                                 position_s=125))
    db.session.commit()
    _credit(m, 2.5, theory=False, source_id=1)
    notify.notify(m, "series_required", "有新的必修专题", email=False)
    return {"member": m, "lesson": lesson}


def test_the_simple_home_keeps_what_to_do_next_and_drops_the_rest(client, auth, studying):
    auth.login("af_home")
    full = client.get("/").get_data(as_text=True)
    assert 'id="recs-h"' in full and 'role="progressbar"' in full  # what the short home leaves out
    _switch(client, "on")
    html = client.get("/").get_data(as_text=True)
    assert ELDER in html
    # Continue learning: a big button to the lesson (which resumes at its position).
    lesson_id = studying["lesson"].id
    assert f'class="button primary big" href="/learn/lessons/{lesson_id}">继续学习' in html
    assert "创新理论必修课 · 第一讲" in html and "从 2 分 05 秒继续" in html
    # Hours in words, the required series due with its next course, the unread notifications.
    assert "今年已学习 2.5 学时" in html and "已完成 2.5 学时，还差 157.5 学时" in html
    assert "农村必修专题" in html and "还有 10 天" in html and "已学完 0 门，共 1 门课程。" in html
    assert "学习：创新理论必修课" in html and "查看 1 条未读通知" in html
    # No recommendations, bars or secondary lists; the elective series is not "due".
    for gone in ('id="recs-h"', "推荐理由", 'role="progressbar"', "<svg", "最近获得的学时", "我的信息", "组织选修专题"):
        assert gone not in html, gone


def test_an_exempt_member_sees_the_status_in_words_without_bars_or_pace(client, auth, make_user):
    m = make_user("af_exempt", exempt=True, exempt_reason="年老体弱<b>行动不便</b>")
    _credit(m, 1.5, theory=True, source_id=9)  # a non-exempt member would be far behind pace
    auth.login("af_exempt")
    status = "您已免于学时考核：年老体弱&lt;b&gt;行动不便&lt;/b&gt;"
    for elder in (False, True):
        if elder:
            _switch(client, "on")
        home = client.get("/").get_data(as_text=True)
        credits = client.get("/me/").get_data(as_text=True)
        assert (ELDER in home) is elder and (ELDER in credits) is elder
        for page in (home, credits):
            assert status in page
            for meaningless in ('role="progressbar"', "<svg", "学时进度落后", "按进度到今天应完成", "按期应完成",
                                "还差", "未达标"):
                assert meaningless not in page, (elder, meaningless)
        assert "本周期已学习 1.5 学时，其中党的创新理论 1.5 学时。" in credits
        assert "1.5 学时" in credits.split("年度学时")[1]
