"""The notification centre: the page, its badge in the top navigation, the JSON API, and e-mail when asked."""
from __future__ import annotations

import re

import pytest

from elearn.auth import tokens
from elearn.extensions import db
from elearn.notify import services as notify

BADGE = re.compile(r'id="nav-badge-notify-centre">(\d+)<')


@pytest.fixture
def app_config(smtp_server):
    return {"ELEARN_SMTP_URL": smtp_server.url, "ELEARN_BASE_URL": "https://elearn.example.org"}


@pytest.fixture
def member(make_user):
    return make_user(username="reader")


def _badge(client) -> int:
    found = BADGE.search(client.get("/").get_data(as_text=True))
    return int(found.group(1)) if found else 0


def test_the_page_lists_marks_read_and_the_badge_follows(client, auth, member, make_user):
    for i in range(3):
        notify.notify(member, "test", f"通知{i}", "正文", link="/ledger" if i == 2 else None)
    stranger = notify.notify(make_user(), "test", "别人的通知")
    auth.login("reader")
    assert _badge(client) == 3
    page = client.get("/notifications").get_data(as_text=True)
    assert page.index("通知2") < page.index("通知1") < page.index("通知0") and "别人的通知" not in page

    newest = notify.list_stmt(member)
    first_id = db.session.execute(newest).scalars().first().id
    opened = client.post(f"/notifications/{first_id}/read", data={"open": "1"})
    assert opened.status_code == 302 and opened.headers["Location"] == "/ledger"
    assert _badge(client) == 2
    # Another's notification: not found, nothing changes.
    refused = client.post(f"/notifications/{stranger.id}/read")
    assert refused.status_code == 302 and "没有这条通知" in client.get("/notifications").get_data(as_text=True)
    assert "别人的通知" not in client.get("/notifications?unread=1").get_data(as_text=True)
    client.post("/notifications/read-all")
    assert _badge(client) == 0
    assert "暂无通知" in client.get("/notifications?unread=1").get_data(as_text=True)


def test_the_api_pages_counts_and_marks_read(client, member, make_user):
    for i in range(5):
        notify.notify(member, "test", f"通知{i}")
    other = notify.notify(make_user(), "test", "别人的")
    headers = {"Authorization": f"Bearer {tokens.issue(member)}"}
    first = client.get("/api/v1/notifications?per_page=2", headers=headers).get_json()
    assert [n["title"] for n in first["items"]] == ["通知4", "通知3"] and first["total"] == 5
    assert first["next"].endswith("page=2")
    assert client.get("/api/v1/notifications/unread-count", headers=headers).get_json() == {"unread": 5}

    one = first["items"][0]["id"]
    assert client.post(f"/api/v1/notifications/{one}/read", headers=headers).get_json() == \
        {"marked": 1, "unread": 4}
    assert client.post(f"/api/v1/notifications/{one}/read", headers=headers).get_json() == \
        {"marked": 0, "unread": 4}
    unread = client.get("/api/v1/notifications?unread=true", headers=headers).get_json()
    assert unread["total"] == 4 and all(n["read_at"] is None for n in unread["items"])
    missing = client.post(f"/api/v1/notifications/{other.id}/read", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert client.post("/api/v1/notifications/read-all", headers=headers).get_json() == {"marked": 4, "unread": 0}
    for bad in ("per_page=0", "page=x", "per_page=100000"):
        answer = client.get(f"/api/v1/notifications?{bad}", headers=headers)
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "bad_query"
    assert client.get("/api/v1/notifications").status_code == 401


def test_the_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/notifications", "/notifications/unread-count", "/notifications/{notification_id}/read",
            "/notifications/read-all"} <= set(paths)


def test_a_notification_by_email_too(member, smtp_server):
    notify.notify(member, "test", "未设邮箱", email=True)
    assert smtp_server.messages == []  # no address on file: in-app only
    member.email = "reader@example.org"
    db.session.commit()
    notify.notify(member, "test", "学习提醒", "请完成学习。", link="/ledger", email=True)
    [message] = smtp_server.messages
    assert message["Subject"] == "学习提醒" and "https://elearn.example.org/ledger" in message.get_content()
    assert notify.unread_count(member) == 2
