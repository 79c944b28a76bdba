"""Announcements: an org admin publishes to their subtree (optionally to sectors or member categories), each
member of the audience gets a notification (a fan-out job) and opens the announcement's page, which counts as
read; the admin's list shows distinct readers / audience. Wrong roles are refused; the body is sanitised."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from elearn.audit.models import AuditEntry
from elearn.auth import tokens
from elearn.errors import Forbidden, ServiceError
from elearn.extensions import db
from elearn.notify import announcements
from elearn.notify.models import Announcement, Notification


@pytest.fixture
def tree(make_org, make_user):
    root = make_org(name="市委", sector="rural")
    rural = make_org(name="甲村支部", kind="branch", sector="rural", parent=root)
    city = make_org(name="乙社区支部", kind="branch", sector="community", parent=root)
    return {
        "root": root, "rural": rural, "city": city,
        "admin": make_user(username="admin", org=root, role="org_admin"),
        "farmer": make_user(username="farmer", org=rural),
        "farmer2": make_user(username="farmer2", org=rural),
        "resident": make_user(username="resident", org=city),
        "stranger": make_user(username="stranger", org=make_org(sector="rural")),
    }


def _told(user) -> int:
    return db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.kind == "announcement")).scalar_one()


def test_an_announcement_to_a_sector_reaches_it_only(client, auth, tree):
    auth.login("admin")
    answer = client.post("/notifications/announcements/new", data={
        "organisation_id": tree["root"].id, "title": "关于开展主题党日的通知", "body": "本周五下午 **三点**。",
        "sectors": ["rural"]})
    assert answer.status_code == 302
    row = db.session.execute(select(Announcement)).scalar_one()
    assert "<strong>三点</strong>" in row.body
    assert _told(tree["farmer"]) == _told(tree["farmer2"]) == 1
    assert _told(tree["resident"]) == 0 and _told(tree["stranger"]) == 0 and _told(tree["admin"]) == 1

    auth.logout()
    auth.login("resident")
    assert client.get(f"/notifications/announcements/{row.id}").status_code == 404
    auth.logout()
    auth.login("farmer")
    assert "关于开展主题党日的通知" in client.get("/notifications").get_data(as_text=True)
    page = client.get(f"/notifications/announcements/{row.id}").get_data(as_text=True)
    assert "<strong>三点</strong>" in page
    client.get(f"/notifications/announcements/{row.id}")  # twice: one reader
    assert client.get("/notifications?unread=1").get_data(as_text=True).count("关于开展主题党日的通知") == 0
    auth.logout()
    auth.login("admin")
    listing = client.get("/notifications/announcements").get_data(as_text=True)
    assert "1 / 3 (33%)" in listing


def test_categories_narrow_the_audience(tree, make_user):
    cadre = make_user(org=tree["rural"], category="cadre")
    announcements.publish(tree["admin"], tree["root"], title="干部培训", body="正文", categories=["cadre"])
    assert _told(cadre) == 1 and _told(tree["farmer"]) == 0


def test_wrong_roles_are_refused_and_nothing_is_published(client, auth, tree, make_user):
    with pytest.raises(Forbidden):
        announcements.publish(tree["farmer"], tree["rural"], title="冒充", body="正文")
    other_admin = make_user(username="other", org=tree["stranger"].organisation, role="org_admin")
    with pytest.raises(Forbidden):
        announcements.publish(other_admin, tree["root"], title="越权", body="正文")
    auth.login("farmer")
    assert client.get("/notifications/announcements/new").status_code == 403
    assert client.post("/notifications/announcements/new", data={
        "organisation_id": tree["rural"].id, "title": "冒充", "body": "正文"}).status_code == 403
    auth.logout()
    auth.login("other")
    page = client.post("/notifications/announcements/new", data={
        "organisation_id": tree["root"].id, "title": "越权", "body": "正文"})
    assert page.status_code == 200 and "组织不存在" in page.get_data(as_text=True)
    for bad in ({"title": "", "body": "正文"}, {"title": "标题", "body": ""}, {"title": "x" * 201, "body": "正文"},
                {"title": "标题", "body": "正文", "sectors": ["mars"]}, {"organisation_id": "abc"}):
        answer = client.post("/notifications/announcements/new",
                             data={"organisation_id": tree["stranger"].id, **bad})
        assert answer.status_code in (200, 400)
    assert db.session.execute(select(func.count()).select_from(Announcement)).scalar_one() == 0


def test_script_in_the_body_is_removed(tree, client, auth):
    announcements.publish(tree["admin"], tree["rural"], title="<b>标题</b>",
                          body='你好<script>alert(1)</script><img src=x onerror="alert(2)">'
                               ' [链接](javascript:alert(3))')
    row = db.session.execute(select(Announcement)).scalar_one()
    assert "<script" not in row.body and "onerror" not in row.body and "javascript:" not in row.body
    auth.login("farmer")
    page = client.get(f"/notifications/announcements/{row.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;b&gt;标题&lt;/b&gt;" in page


def test_the_member_api_lists_and_opens(client, tree):
    with pytest.raises(ServiceError):
        announcements.publish(tree["admin"], tree["root"], title="  ", body="正文")
    row = announcements.publish(tree["admin"], tree["root"], title="学习安排", body="正文")
    headers = {"Authorization": f"Bearer {tokens.issue(tree['farmer'])}"}
    listed = client.get("/api/v1/announcements", headers=headers).get_json()["items"]
    assert [(a["id"], a["read"]) for a in listed] == [(row.id, False)]
    detail = client.get(f"/api/v1/announcements/{row.id}", headers=headers).get_json()
    assert detail["title"] == "学习安排" and "正文" in detail["body_html"]
    assert client.get("/api/v1/announcements", headers=headers).get_json()["items"][0]["read"] is True
    strange = {"Authorization": f"Bearer {tokens.issue(tree['stranger'])}"}
    missing = client.get(f"/api/v1/announcements/{row.id}", headers=strange)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/announcements/99999999999", headers=headers).status_code == 404


def test_publishing_writes_an_audit_entry_that_admins_find(client, auth, tree):
    auth.login("admin")
    client.post("/notifications/announcements/new", data={
        "organisation_id": tree["root"].id, "title": "关于开展主题党日的通知", "body": "正文", "sectors": ["rural"],
        "categories": ["member"]})
    row = db.session.execute(select(Announcement)).scalar_one()
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "announcement.publish")).scalar_one()
    assert (entry.actor_id, entry.object_type, entry.object_id) == (tree["admin"].id, "announcement", row.id)
    assert entry.after == {"organisation_id": tree["root"].id, "title": "关于开展主题党日的通知",
                           "sectors": "rural", "categories": "member"}
    page = client.get("/admin/audit?action=announcement.publish").get_data(as_text=True)
    assert "发布公告" in page and "关于开展主题党日的通知" in page
    # Refused input publishes nothing and records nothing.
    client.post("/notifications/announcements/new", data={"organisation_id": tree["root"].id, "title": "",
                                                            "body": "正文"})
    assert db.session.execute(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action.startswith("announcement."))).scalar_one() == 1
