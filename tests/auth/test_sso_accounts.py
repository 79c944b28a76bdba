"""A member links and unlinks a provider on their account page; admins turn local passwords off for their
subtree (inherited below; site admins keep theirs). Against the real CAS server of tests/providers."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from elearn.audit.models import AuditEntry
from elearn.auth.models import LoginSession, SignInIdentity
from elearn.orgs.models import Organisation
from tests.providers.fixtures import (  # noqa: F401 - fixtures
    cas_server,
    cas_sign_in,
    oidc_provider,
    sso_app_config,
)


@pytest.fixture
def app_config(sso_app_config):  # noqa: F811
    return sso_app_config


def _cas_round_trip(client, username: str):
    start = client.get("/auth/sso/uni")
    assert start.status_code == 302
    return client.get(cas_sign_in(start.headers["Location"], username))


def _sessions(db, user) -> int:
    return db.session.scalar(select(func.count()).select_from(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)))


def _audited(db, action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def test_link_sign_in_unlink(client, auth, db, make_user):
    member = make_user("lisi2024")  # the CAS account is "li.si": no match by username, so it must be linked
    client.csrf_token()
    assert _cas_round_trip(client, "li.si").status_code == 401  # not linked yet: unknown
    assert auth.login("lisi2024").status_code == 302
    page = client.get("/account/sign-in").get_data(as_text=True)
    assert "大学统一身份认证" in page and "未关联" in page
    leave = client.post("/account/sign-in", data={"provider": "uni", "action": "link"})
    assert leave.status_code == 302 and "/cas/login" in leave.headers["Location"]
    back = client.get(cas_sign_in(leave.headers["Location"], "li.si"))
    assert back.status_code == 302 and back.headers["Location"].endswith("/account/sign-in")
    row = db.session.execute(select(SignInIdentity)).scalar_one()
    assert (row.user_id, row.provider, row.subject, row.unlinked_at) == (member.id, "uni", "li.si", None)
    assert "已关联" in client.get("/account/sign-in").get_data(as_text=True)
    auth.logout()

    assert _cas_round_trip(client, "li.si").status_code == 302  # the link signs in
    assert _sessions(db, member) == 1
    assert client.post("/account/sign-in", data={"provider": "uni", "action": "unlink"}).status_code == 302
    db.session.refresh(row)
    assert row.unlinked_at is not None
    assert (_audited(db, "auth.sso.link"), _audited(db, "auth.sso.unlink")) == (1, 1)
    auth.logout()
    # Taken away: that account neither signs in nor is matched again.
    assert _cas_round_trip(client, "li.si").status_code == 401
    assert _sessions(db, member) == 0


def test_an_unlinked_matched_account_is_not_matched_again(client, auth, db, make_user):
    member = make_user("zhang.san")
    client.csrf_token()
    assert _cas_round_trip(client, "zhang.san").status_code == 302  # matched by username and linked
    client.post("/account/sign-in", data={"provider": "uni", "action": "unlink"})
    auth.logout()
    answer = _cas_round_trip(client, "zhang.san")
    assert answer.status_code == 401 and "不对应" in answer.get_data(as_text=True)
    assert _sessions(db, member) == 0


def test_a_provider_account_of_another_member_cannot_be_linked(client, auth, db, make_user):
    make_user("zhang.san")
    other = make_user("someone")
    client.csrf_token()
    assert _cas_round_trip(client, "zhang.san").status_code == 302
    auth.logout()
    auth.login("someone")
    leave = client.post("/account/sign-in", data={"provider": "uni", "action": "link"})
    back = client.get(cas_sign_in(leave.headers["Location"], "zhang.san"))
    assert back.status_code == 409 and "另一个账号" in back.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SignInIdentity).where(
        SignInIdentity.user_id == other.id)) == 0


def test_linking_nothing_or_unknown_is_a_message(client, auth, make_user):
    make_user("zhang.san")
    auth.login("zhang.san")
    answer = client.post("/account/sign-in", data={"provider": "uni", "action": "unlink"}, follow_redirects=True)
    assert "没有关联" in answer.get_data(as_text=True)
    answer = client.post("/account/sign-in", data={"provider": "nosuch", "action": "link"}, follow_redirects=True)
    assert answer.status_code == 200 and "没有这个统一身份认证方式" in answer.get_data(as_text=True)


def test_local_passwords_off_for_a_subtree(client, auth, db, make_org, make_user):
    committee = make_org("某大学党委")
    branch = make_org("计算机学院党支部", kind="branch", parent=committee)
    make_user("uni.admin", org=committee, role="org_admin")
    make_user("branch.admin", org=branch, role="org_admin")
    make_user("zhang.san", org=branch)
    make_user("site.admin", org=branch, role="site_admin")
    client.csrf_token()

    auth.login("uni.admin")
    assert "某大学党委" in client.get("/admin/sign-in").get_data(as_text=True)
    done = client.post("/admin/sign-in", data={"org_id": committee.id, "off": "1"}, follow_redirects=True)
    assert "已关闭" in done.get_data(as_text=True)
    assert "随上级关闭" in done.get_data(as_text=True)  # the branch below inherits it
    assert _audited(db, "org.local_passwords") == 1
    auth.logout()

    # A member below cannot sign in with the (right) password, and is told how to.
    refused = auth.login("zhang.san")
    assert refused.status_code == 403 and "已关闭本地密码登录" in refused.get_data(as_text=True)
    assert auth.login("branch.admin").status_code == 403  # an admin of the subtree too
    # The organisation's provider still signs them in.
    assert _cas_round_trip(client, "zhang.san").status_code == 302
    assert "已关闭本地密码登录" in client.get("/account/sign-in").get_data(as_text=True)
    auth.logout()
    # A site admin always keeps a way in.
    assert auth.login("site.admin").status_code == 302


def test_a_lower_admin_cannot_switch_the_organisation_above(client, auth, db, make_org, make_user):
    committee = make_org("某大学党委")
    branch = make_org("计算机学院党支部", kind="branch", parent=committee)
    make_user("branch.admin", org=branch, role="org_admin")
    auth.login("branch.admin")
    answer = client.post("/admin/sign-in", data={"org_id": committee.id, "off": "1"}, follow_redirects=True)
    assert "无权管理" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Organisation, committee.id).local_passwords_off is False
    assert client.post("/admin/sign-in", data={"org_id": "x"}).status_code == 400  # a readable refusal
