"""Password reset by an e-mailed link, through the pages, against a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from elearn.audit.models import AuditEntry
from elearn.auth import tokens
from elearn.auth.models import LoginSession
from elearn.extensions import db
from elearn.notify.models import OutboxEmail
from elearn.policy import RESET
from tests.conftest import PASSWORD

NEW_PASSWORD = "Fresh-Start-2026"
LINK = re.compile(r"http://elearn\.test(/auth/reset/[A-Za-z0-9_-]+)")


@pytest.fixture
def app_config(smtp_server):
    return {"ELEARN_SMTP_URL": smtp_server.url, "ELEARN_BASE_URL": "http://elearn.test"}


@pytest.fixture
def alice(make_user):
    user = make_user(username="alice", name="王丽")
    user.email = "alice@example.org"
    db.session.commit()
    return user


def _request(client, address):
    return client.post("/auth/reset", data={"email": address})


def _link(message) -> str:
    found = LINK.search(message.get_content())
    assert found, message.get_content()
    return found.group(1)


def _actions(user):
    return db.session.execute(select(AuditEntry.action).where(AuditEntry.object_id == user.id,
                                                             AuditEntry.object_type == "user_account")
                              .order_by(AuditEntry.id)).scalars().all()


def test_the_whole_reset_path_from_the_login_page(app, client, auth, alice, smtp_server):
    login_page = client.get("/auth/login").get_data(as_text=True)
    assert 'href="/auth/reset"' in login_page
    assert "alice@example.org" not in client.get("/auth/reset").get_data(as_text=True)
    # Signed in elsewhere, with an API token: both end with the reset.
    other = app.test_client()
    assert other.post("/auth/login", data={"username": "alice", "password": PASSWORD}).status_code == 302
    assert other.get("/account/sessions").status_code == 200
    token = tokens.issue(alice)

    answer = _request(client, "Alice@Example.org")  # an address matches whatever its case
    assert answer.status_code == 302 and answer.headers["Location"] == "/auth/login"
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "alice@example.org" and message["Subject"] == "重置密码"
    assert smtp_server.envelopes[0][1] == ["alice@example.org"]
    link = _link(message)

    form = client.get(link)
    assert form.status_code == 200 and "alice" in form.get_data(as_text=True)
    weak = client.post(link, data={"new": "short", "confirm": "short"})
    assert weak.status_code == 400 and "至少需要" in weak.get_data(as_text=True)
    done = client.post(link, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})  # the weak try used nothing up
    assert done.status_code == 302 and done.headers["Location"] == "/auth/login"

    assert auth.login("alice", PASSWORD).status_code == 401
    assert auth.login("alice", NEW_PASSWORD).status_code == 302
    assert other.get("/account/sessions").status_code == 302  # signed out there
    assert tokens.user_for(token) is None
    assert db.session.execute(select(func.count()).select_from(LoginSession).where(
        LoginSession.user_id == alice.id, LoginSession.end_reason == "password")).scalar_one() == 1
    assert [a for a in _actions(alice) if a.startswith(("auth.reset", "user.password"))] == \
        ["auth.reset.request", "auth.reset.done", "user.password"]

    # Single use: the link opens nothing any more, and changes nothing.
    again = client.post(link, data={"new": "Another-Pass-99", "confirm": "Another-Pass-99"})
    assert again.status_code == 400 and "重置链接无效或已过期" in again.get_data(as_text=True)
    assert client.get(link).status_code == 400
    auth.logout()
    assert auth.login("alice", NEW_PASSWORD).status_code == 302
    # The text of the sent message (a credential while the link lived) is not kept in the outbox.
    row = db.session.execute(select(OutboxEmail)).scalar_one()
    assert row.status == "sent" and row.body is None


def test_an_unknown_address_gets_the_same_answer_and_nothing_is_sent(client, alice, smtp_server):
    known = _request(client, "alice@example.org")
    answers = [_request(client, address) for address in ("nobody@example.org", "not an address", "ALICE@example.org ")]
    unknown = answers[:2]
    for answer in unknown:
        assert (answer.status_code, answer.headers["Location"]) == (known.status_code, known.headers["Location"])
        assert answer.get_data() == known.get_data()
    assert len(smtp_server.messages) == 2  # alice's two requests; nothing for the others
    assert db.session.execute(select(func.count()).select_from(OutboxEmail)).scalar_one() == 2
    page = client.get("/auth/login").get_data(as_text=True)  # the flash of the last answer
    assert "如果该邮箱属于本站的账号" in page


def test_a_link_expires_after_the_policy_minutes(client, alice, smtp_server, site_clock):
    _request(client, "alice@example.org")
    link = _link(smtp_server.messages[0])
    site_clock.advance(RESET.link_minutes * 60 - 5)
    assert client.get(link).status_code == 200
    site_clock.advance(10)
    expired = client.post(link, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert expired.status_code == 400 and "重置链接无效或已过期" in expired.get_data(as_text=True)


def test_a_later_request_voids_the_earlier_link(client, auth, alice, smtp_server):
    _request(client, "alice@example.org")
    _request(client, "alice@example.org")
    first, second = (_link(m) for m in smtp_server.messages)
    assert client.get(first).status_code == 400
    assert client.post(second, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert auth.login("alice", NEW_PASSWORD).status_code == 302


def test_a_password_change_voids_the_link(client, auth, alice, smtp_server):
    _request(client, "alice@example.org")
    link = _link(smtp_server.messages[0])
    auth.login("alice")
    changed = client.post("/auth/password", data={"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert changed.status_code == 302
    auth.logout()
    assert client.get(link).status_code == 400


def test_an_inactive_account_gets_no_link(client, alice, smtp_server):
    alice.active = False
    db.session.commit()
    assert _request(client, "alice@example.org").status_code == 302
    assert smtp_server.messages == []


def test_a_made_up_token_is_a_clear_400(client):
    for token in ("x", "A" * 43, "A" * 500):
        answer = client.get(f"/auth/reset/{token}")
        assert answer.status_code == 400 and "重置链接无效或已过期" in answer.get_data(as_text=True)


def test_an_empty_request_is_refused_with_a_message(client, smtp_server):
    answer = _request(client, "")
    assert answer.status_code == 400 and "请填写电子邮箱" in answer.get_data(as_text=True)
    assert smtp_server.messages == []


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "ELEARN_SMTP_URL": "smtp://127.0.0.1:9"}])
def test_requests_for_one_address_are_rate_limited(client, app_config):
    limit = int(RESET.limit_per_email.split()[0])
    answers = [_request(client, "someone@example.org").status_code for _ in range(limit + 1)]
    assert answers == [302] * limit + [429]
    assert _request(client, "another@example.org").status_code == 302  # another address still gets its answer


def test_the_e_mail_is_in_the_language_of_the_request(client, alice, smtp_server):
    client.post("/auth/locale/en")
    _request(client, "alice@example.org")
    [message] = smtp_server.messages
    assert message["Subject"] == "Reset password" and "within 30 minutes" in message.get_content()
