"""Announcements: an org admin publishes to their subtree (optionally to sectors or member categories), each
member of the audience gets a notification (a fan-out job) and opens the announcement's page, which counts as
read; the admin's list shows distinct readers / audience. Wrong roles are refused; the body is sanitised."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from elearn.audit.models import AuditEntry
from elearn.auth import tokens
from elearn.errors import Forbidden, ServiceError
from elearn.extensions import db
from elearn.notify import announcements
from elearn.notify import services as notify_services
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


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def test_the_author_edits_and_members_see_the_new_text_marked_edited(client, auth, tree):
    row = announcements.publish(tree["admin"], tree["root"], title="学习安排", body="周五 **三点**")
    auth.login("admin")
    form = client.get(f"/notifications/announcements/{row.id}/edit").get_data(as_text=True)
    assert "周五 **三点**" in form  # the Markdown as written, not its HTML
    answer = client.post(f"/notifications/announcements/{row.id}/edit",
                         data={"title": "学习安排（改期）", "body": "周六 **九点**"})
    assert answer.status_code == 302
    [entry] = _audit("announcement.edit")
    assert (entry.actor_id, entry.object_id) == (tree["admin"].id, row.id)
    assert entry.before == {"title": "学习安排", "body_source": "周五 **三点**"}
    assert entry.after["title"] == "学习安排（改期）"
    assert "编辑公告" in client.get("/admin/audit?action=announcement.edit").get_data(as_text=True)
    listing = client.get("/notifications/announcements").get_data(as_text=True)
    assert "学习安排（改期）" in listing and "已编辑" in listing

    auth.logout()
    auth.login("farmer")
    centre = client.get("/notifications").get_data(as_text=True)
    assert "学习安排（改期）" in centre
    page = client.get(f"/notifications/announcements/{row.id}").get_data(as_text=True)
    assert "<strong>九点</strong>" in page and "三点" not in page and "已编辑" in page
    headers = {"Authorization": f"Bearer {tokens.issue(tree['farmer'])}"}
    detail = client.get(f"/api/v1/announcements/{row.id}", headers=headers).get_json()
    assert detail["title"] == "学习安排（改期）" and detail["edited_at"]


def test_an_empty_title_is_refused_with_a_message_and_changes_nothing(client, auth, tree):
    row = announcements.publish(tree["admin"], tree["root"], title="学习安排", body="正文")
    auth.login("admin")
    page = client.post(f"/notifications/announcements/{row.id}/edit", data={"title": "  ", "body": "新正文"})
    assert page.status_code == 200 and "请填写公告标题" in page.get_data(as_text=True)
    db.session.expire_all()
    assert (row.title, row.body_source, row.edited_at) == ("学习安排", "正文", None)
    assert _audit("announcement.edit") == []


def test_withdrawn_announcements_leave_members_but_keep_their_read_count(client, auth, tree):
    row = announcements.publish(tree["admin"], tree["root"], title="学习安排", body="正文")
    kept = announcements.publish(tree["admin"], tree["root"], title="另一条", body="正文")
    auth.login("farmer")
    client.get(f"/notifications/announcements/{row.id}")  # one reader
    auth.logout()
    auth.login("farmer2")
    unread = notify_services.unread_count(tree["farmer2"])
    auth.logout()
    auth.login("admin")
    assert client.post(f"/notifications/announcements/{row.id}/withdraw").status_code == 302
    [entry] = _audit("announcement.withdraw")
    assert (entry.actor_id, entry.object_id, entry.after["told_at_withdrawal"]) == (tree["admin"].id, row.id, 4)
    listing = client.get("/notifications/announcements").get_data(as_text=True)
    withdrawn = re.search(rf'<tr id="announcement-{row.id}".*?</tr>', listing, re.S).group(0)
    assert "已撤回" in withdrawn and "1 / 4 (25%)" in withdrawn and "/edit" not in withdrawn
    assert "撤回公告" in client.get("/admin/audit?action=announcement.withdraw").get_data(as_text=True)
    # Again: refused with a message, nothing more recorded; it can no longer be edited.
    client.post(f"/notifications/announcements/{row.id}/withdraw")
    assert len(_audit("announcement.withdraw")) == 1
    assert client.get(f"/notifications/announcements/{row.id}/edit").status_code == 404
    assert client.post(f"/notifications/announcements/{row.id}/edit",
                       data={"title": "复活", "body": "正文"}).status_code == 404

    auth.logout()
    auth.login("farmer2")
    assert notify_services.unread_count(tree["farmer2"]) == unread - 1
    assert "学习安排" not in client.get("/notifications").get_data(as_text=True)
    assert client.get(f"/notifications/announcements/{row.id}").status_code == 404
    headers = {"Authorization": f"Bearer {tokens.issue(tree['farmer2'])}"}
    assert [a["id"] for a in client.get("/api/v1/announcements", headers=headers).get_json()["items"]] == [kept.id]
    assert client.get(f"/api/v1/announcements/{row.id}", headers=headers).status_code == 404


def test_editing_and_withdrawing_are_refused_to_others(client, auth, tree, make_user):
    row = announcements.publish(tree["admin"], tree["root"], title="学习安排", body="正文")
    make_user(username="other", org=tree["stranger"].organisation, role="org_admin")
    make_user(username="branch_admin", org=tree["rural"], role="org_admin")
    make_user(username="site", org=tree["stranger"].organisation, role="site_admin")
    for who, status in (("farmer", 403), ("other", 404), ("branch_admin", 404)):
        auth.login(who)
        assert client.get(f"/notifications/announcements/{row.id}/edit").status_code == status, who
        assert client.post(f"/notifications/announcements/{row.id}/edit",
                           data={"title": "越权", "body": "正文"}).status_code == status, who
        assert client.post(f"/notifications/announcements/{row.id}/withdraw").status_code == status, who
        assert client.get("/notifications/announcements/99999999999/edit").status_code in (403, 404)
        auth.logout()
    auth.login("admin")  # the author, but the form without its token
    assert client.post(f"/notifications/announcements/{row.id}/withdraw", csrf=False).status_code == 400
    assert client.post(f"/notifications/announcements/{row.id}/edit", data={"title": "x", "body": "y",
                                                                            "csrf_token": "forged"},
                       csrf=False).status_code == 400
    auth.logout()
    db.session.expire_all()
    assert (row.title, row.withdrawn_at) == ("学习安排", None) and _audit("announcement.edit") == []
    auth.login("site")  # an admin over the announcement's organisation who did not write it
    assert client.post(f"/notifications/announcements/{row.id}/withdraw").status_code == 302
    db.session.expire_all()
    assert row.withdrawn_at is not None
