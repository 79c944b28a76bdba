"""Password reset without e-mail: the page says to ask an org admin, who sets a temporary password that must be
changed at the first sign-in before anything else."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from elearn.audit.models import AuditEntry
from elearn.extensions import db
from elearn.notify.models import OutboxEmail
from tests.conftest import PASSWORD

TEMPORARY = re.compile(r'<code id="temporary-password">([^<]+)</code>')
NEW_PASSWORD = "Mine-Again-2026"


@pytest.fixture
def tree(make_org, make_user):
    county = make_org(name="县委")
    branch = make_org(name="支部", kind="branch", parent=county)
    elsewhere = make_org(name="另一县委")
    return {
        "admin": make_user(username="county_admin", org=county, role="org_admin"),
        "peer": make_user(username="peer_admin", org=county, role="org_admin"),
        "branch_admin": make_user(username="branch_admin", org=branch, role="org_admin"),
        "member": make_user(username="member1", org=branch),
        "outsider": make_user(username="outsider_admin", org=elsewhere, role="org_admin"),
        "site": make_user(username="root", role="site_admin"),
    }


def _set_temporary(client, user) -> str:
    answer = client.post(f"/admin/members/{user.id}/temporary-password")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Cache-Control"] == "no-store"
    return TEMPORARY.search(answer.get_data(as_text=True)).group(1)


def test_without_smtp_the_page_says_to_ask_an_admin_and_sends_nothing(client, tree):
    page = client.get("/auth/reset").get_data(as_text=True)
    assert 'id="reset-by-admin"' in page and "<form method=\"post\" novalidate>" not in page
    answer = client.post("/auth/reset", data={"email": "member1@example.org"})
    assert answer.status_code == 200 and 'id="reset-by-admin"' in answer.get_data(as_text=True)
    assert db.session.execute(select(OutboxEmail)).first() is None


def test_admin_sets_a_temporary_password_that_must_be_changed_first(app, client, auth, tree):
    member = tree["member"]
    signed_in = app.test_client()  # the member, signed in somewhere: signed out by the reset
    signed_in.post("/auth/login", data={"username": "member1", "password": PASSWORD})
    auth.login("county_admin")
    assert 'id="temporary-password"' in client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    temporary = _set_temporary(client, member)
    auth.logout()
    assert signed_in.get("/account/sessions").status_code == 302

    assert auth.login("member1", PASSWORD).status_code == 401
    first = auth.login("member1", temporary)
    assert first.status_code == 302 and first.headers["Location"] == "/auth/password"
    assert "临时密码" in client.get("/auth/password").get_data(as_text=True)
    # Nothing else before the change: pages lead back to the password page, the API answers 403.
    assert client.get("/notifications").headers["Location"] == "/auth/password"
    assert client.get("/api/v1/notifications/unread-count").status_code == 403
    changed = client.post("/auth/password", data={"current": temporary, "new": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD})
    assert changed.status_code == 302
    assert client.get("/notifications").status_code == 200  # this browser goes on
    auth.logout()
    again = auth.login("member1", NEW_PASSWORD)
    assert again.status_code == 302 and again.headers["Location"] != "/auth/password"
    actions = db.session.execute(select(AuditEntry.action).where(AuditEntry.object_id == member.id,
                                                                 AuditEntry.object_type == "user_account")
                                 .order_by(AuditEntry.id)).scalars().all()
    assert "auth.password.temporary" in actions


def test_a_site_admin_sets_anyone_s_temporary_password(client, auth, tree):
    auth.login("root")
    temporary = _set_temporary(client, tree["peer"])
    auth.logout()
    assert auth.login("peer_admin", temporary).headers["Location"] == "/auth/password"


def test_an_org_admin_resets_an_admin_below_but_not_a_peer(client, auth, tree):
    auth.login("county_admin")
    assert _set_temporary(client, tree["branch_admin"])
    refused = client.post(f"/admin/members/{tree['peer'].id}/temporary-password")
    assert refused.status_code == 303
    assert 'id="temporary-password"' not in client.get(f"/admin/members/{tree['peer'].id}").get_data(as_text=True)
    auth.logout()
    assert auth.login("peer_admin").status_code == 302  # the peer's password did not change


@pytest.mark.parametrize("who, status", [("member1", 403), ("outsider_admin", 404)])
def test_the_wrong_role_or_subtree_changes_nothing(client, auth, tree, who, status):
    target = tree["member"] if who != "member1" else tree["branch_admin"]
    auth.login(who)
    assert client.post(f"/admin/members/{target.id}/temporary-password").status_code == status
    auth.logout()
    assert auth.login(target.username).status_code == 302


def test_an_admin_cannot_reset_their_own_password_this_way(client, auth, tree):
    auth.login("root")
    assert client.post(f"/admin/members/{tree['site'].id}/temporary-password").status_code == 303
    auth.logout()
    assert auth.login("root").status_code == 302
