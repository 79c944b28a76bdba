"""Session rules (policy.SessionPolicy), through the pages: an idle session ends with a clear message, a session
ends after its absolute lifetime whatever the activity, an admin holds at most a few sessions at once and never
gets remember-me, and "last seen" is not written on every request."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from elearn.audit.models import AuditEntry
from elearn.auth.models import LoginSession
from elearn.extensions import db
from elearn.policy import SESSIONS
from tests.conftest import PASSWORD

IDLE_NOTICE = "长时间未操作，已自动退出，请重新登录"
EXPIRED_NOTICE = "登录已超过有效期"
LIMIT_NOTICE = "您的账号已在其他设备登录"
MINUTE = 60
HOUR = 3600
DAY = 24 * HOUR


def _signed_in(client) -> bool:
    return client.get("/").status_code == 200


def _sign_in(app, user, remember=False):
    browser = app.test_client()
    data = {"username": user.username, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    assert browser.post("/auth/login", data=data).status_code == 302
    return browser


def _signed_out_with(client, notice: str) -> bool:
    """The next page redirects to the sign-in page, which says why."""
    r = client.get("/")
    if r.status_code != 302 or "/auth/login" not in r.headers["Location"]:
        return False
    return notice in client.get(r.headers["Location"]).get_data(as_text=True)


def _reasons(user) -> list[str | None]:
    return [r.end_reason for r in db.session.execute(
        select(LoginSession).where(LoginSession.user_id == user.id).order_by(LoginSession.created_at)).scalars()]


def test_an_admin_idle_for_half_an_hour_is_signed_out_with_a_message(app, client, auth, make_user, site_clock):
    admin = make_user(role="org_admin")
    auth.login(admin.username)
    site_clock.advance(SESSIONS.admin_idle_minutes * MINUTE - 2 * MINUTE)
    assert _signed_in(client)  # activity just before the limit keeps the session
    site_clock.advance(SESSIONS.admin_idle_minutes * MINUTE - 2 * MINUTE)
    assert _signed_in(client)
    site_clock.advance(SESSIONS.admin_idle_minutes * MINUTE + 1)
    assert _signed_out_with(client, IDLE_NOTICE)
    assert not _signed_in(client)  # and stays signed out; the message is given once
    assert IDLE_NOTICE not in client.get("/auth/login").get_data(as_text=True)
    assert _reasons(admin) == ["idle"]
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "auth.session_timeout")).scalar_one()
    assert entry.after == {"reason": "idle"}


def test_a_member_keeps_a_longer_idle_timeout(app, client, auth, make_user, site_clock):
    member = make_user()
    auth.login(member.username)
    site_clock.advance(SESSIONS.admin_idle_minutes * MINUTE * 3)  # idle far beyond an admin's limit
    assert _signed_in(client)
    site_clock.advance(SESSIONS.member_idle_minutes * MINUTE + 1)
    assert _signed_out_with(client, IDLE_NOTICE)


@pytest.mark.parametrize("app_config", [{"ELEARN_MEMBER_IDLE_MINUTES": 45}])
def test_the_members_idle_timeout_is_configurable(app, client, auth, make_user, site_clock):
    auth.login(make_user().username)
    site_clock.advance(44 * MINUTE)
    assert _signed_in(client)
    site_clock.advance(45 * MINUTE + 1)
    assert _signed_out_with(client, IDLE_NOTICE)


def test_an_admins_session_ends_after_its_lifetime_however_active(app, client, auth, make_user, site_clock):
    admin = make_user(role="site_admin")
    auth.login(admin.username)
    for _step in range(SESSIONS.admin_lifetime_hours * 3 - 1):  # a request every 20 minutes
        site_clock.advance(20 * MINUTE)
        assert _signed_in(client)
    site_clock.advance(20 * MINUTE)
    assert _signed_out_with(client, EXPIRED_NOTICE)
    assert _reasons(admin) == ["expired"]


def test_a_members_session_ends_after_seven_days_without_remember_me(app, client, auth, make_user, site_clock):
    auth.login(make_user().username)
    elapsed = 0
    while elapsed + 6 * HOUR < SESSIONS.member_lifetime_hours * HOUR:
        site_clock.advance(6 * HOUR)
        elapsed += 6 * HOUR
        assert _signed_in(client)
    site_clock.advance(SESSIONS.member_lifetime_hours * HOUR - elapsed)
    assert _signed_out_with(client, EXPIRED_NOTICE)


def test_remember_me_lasts_its_days_across_comebacks_and_no_longer(app, make_user, site_clock):
    member = make_user()
    days = app.config["REMEMBER_COOKIE_DURATION"] // DAY
    browser = _sign_in(app, member, remember=True)
    for _day in range(days - 1):  # comes back once a day, idle far longer than the members' idle timeout
        site_clock.advance(DAY)
        browser.delete_cookie("session")  # the browser was closed: the remember-me cookie signs in
        assert _signed_in(browser)
    assert "rotated" in _reasons(member)  # each comeback got a fresh session row…
    site_clock.advance(DAY)
    browser.delete_cookie("session")
    assert _signed_out_with(browser, EXPIRED_NOTICE)  # …yet the lifetime counts from the sign-in
    assert browser.get_cookie("remember_token") is None  # the remember-me cookie was deleted with it


def test_an_admin_gets_no_remember_me(app, make_user, site_clock):
    admin = make_user(role="org_admin")
    browser = _sign_in(app, admin, remember=True)
    assert browser.get_cookie("remember_token") is None
    row = db.session.execute(select(LoginSession).where(LoginSession.user_id == admin.id)).scalar_one()
    assert row.remember is False


def test_a_new_admin_sign_in_ends_the_oldest_session_beyond_the_limit(app, make_user, site_clock):
    admin = make_user(role="org_admin")
    browsers = []
    for _n in range(SESSIONS.admin_max_sessions + 1):
        browsers.append(_sign_in(app, admin))
        site_clock.advance(1)
    oldest, *others = browsers
    assert all(_signed_in(b) for b in others)
    assert _signed_out_with(oldest, LIMIT_NOTICE)
    assert not _signed_in(oldest)
    assert _reasons(admin).count("limit") == 1
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "auth.sessions_end")).scalar_one()
    assert entry.after == {"reason": "limit", "sessions": 1}


def test_members_have_no_session_limit(app, make_user, site_clock):
    member = make_user()
    browsers = [_sign_in(app, member) for _n in range(SESSIONS.admin_max_sessions + 2)]
    assert all(_signed_in(b) for b in browsers)


def test_last_seen_is_written_at_most_once_a_minute(app, client, auth, make_user, site_clock):
    auth.login(make_user().username)
    writes: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("UPDATE LOGIN_SESSION"):
            writes.append(statement)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for _n in range(10):  # a player's heartbeats and page loads, a few seconds apart
            site_clock.advance(5)
            assert _signed_in(client)
        assert writes == []
        site_clock.advance(SESSIONS.seen_every_s)
        assert _signed_in(client) and _signed_in(client)
        assert len(writes) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
