"""The kinds of notification and each member's e-mail choices: the registry, the settings page and its API,
and notify() honouring them against a real SMTP server (a kind turned off: in the centre only)."""
from __future__ import annotations

import pytest

from elearn.auth import tokens
from elearn.extensions import db
from elearn.notify import kinds
from elearn.notify import services as notify

OTHER_HELPERS_KINDS = {"meeting_scheduled", "survey_published", "political_birthday", "question_answered",
                       "announcement"}
ISSUE_KINDS = {"series_required", "series_due", "behind_pace", "quiz_graded", "transfer_recorded",
               "group_session_scheduled"}


@pytest.fixture
def app_config(smtp_server):
    return {"ELEARN_SMTP_URL": smtp_server.url, "ELEARN_BASE_URL": "https://elearn.example.org"}


@pytest.fixture
def member(make_user):
    user = make_user(username="reader")
    user.email = "reader@example.org"
    db.session.commit()
    return user


def test_the_registry_covers_the_issue_and_the_other_parts():
    assert set(kinds.KINDS) >= ISSUE_KINDS | OTHER_HELPERS_KINDS
    assert all(str(k.label) for k in kinds.KINDS.values())
    assert kinds.DIGEST not in kinds.KINDS and kinds.email_default("no_such_kind") is False


def test_email_follows_the_default_and_the_members_choice(member, smtp_server):
    notify.notify(member, "series_due", "专题即将截止", "请尽快完成。")  # on by default
    notify.notify(member, "quiz_graded", "测验已评分")  # off by default
    assert [m["Subject"] for m in smtp_server.messages] == ["专题即将截止"]
    notify.set_preferences(member, {"series_due": False, "quiz_graded": True})
    notify.notify(member, "series_due", "又一个专题即将截止")
    notify.notify(member, "quiz_graded", "测验又评分了")
    assert [m["Subject"] for m in smtp_server.messages] == ["专题即将截止", "测验又评分了"]
    assert notify.unread_count(member) == 4  # every one in the centre
    notify.notify(member, "quiz_graded", "不发邮件", email=False)
    assert len(smtp_server.messages) == 2


def test_the_settings_page_toggles_per_kind(client, auth, member, smtp_server):
    auth.login("reader")
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert 'name="email_series_due" value="1" checked' in page and 'name="digest" value="1" >' in page
    form = {f"email_{code}": "1" for code in kinds.KINDS if code != "announcement"}
    answer = client.post("/notifications/settings", data=form)
    assert answer.status_code == 302
    prefs = notify.my_preferences(member)
    assert prefs["announcement"] is False and prefs["quiz_graded"] is True and prefs["digest"] is False
    notify.notify(member, "announcement", "公告：停电通知")
    assert smtp_server.messages == []
    assert "通知设置" in client.get("/notifications").get_data(as_text=True)


def test_the_preferences_api(client, member):
    headers = {"Authorization": f"Bearer {tokens.issue(member, 'app', scopes=('read', 'study'))}"}
    got = client.get("/api/v1/notifications/preferences", headers=headers).get_json()
    assert got["email"]["series_due"] is True and got["digest"] is False
    put = client.put("/api/v1/notifications/preferences", json={"email": {"series_due": False}, "digest": True},
                     headers=headers).get_json()
    assert put["email"]["series_due"] is False and put["digest"] is True
    bad = client.put("/api/v1/notifications/preferences", json={"email": {"nonsense": True}}, headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_kind"
    wrong = client.put("/api/v1/notifications/preferences", json={"email": "yes"}, headers=headers)
    assert wrong.status_code == 400
    assert notify.my_preferences(member)["series_due"] is False  # the refused requests changed nothing
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/notifications/preferences", "/announcements", "/announcements/{announcement_id}"} <= set(paths)
