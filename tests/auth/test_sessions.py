"""Server-side login sessions: a copied session or remember-me cookie dies with logout, "sign out everywhere",
a password change or reset and deactivation; a remember-me cookie is good for one comeback; members see their
signed-in devices."""
from __future__ import annotations

from sqlalchemy import select

from elearn.audit.models import AuditEntry
from elearn.auth import services as auth_services
from elearn.auth import tokens
from elearn.auth.models import ApiToken, LoginSession
from elearn.extensions import db
from elearn.orgs import members
from tests.conftest import PASSWORD

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile MicroMessenger/8.0"


def _copy(app, client, only: tuple[str, ...] | None = None):
    """Another browser holding a copy of ``client``'s cookies (all of them, or only those named)."""
    thief = app.test_client()
    for cookie in client._cookies.values():
        if only is None or cookie.key in only:
            thief.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return thief


def _signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_a_copied_session_cookie_dies_with_logout(app, client, auth, make_user):
    user = make_user()
    auth.login(user.username)
    thief = _copy(app, client)
    assert _signed_in(thief)
    auth.logout()
    assert not _signed_in(thief) and not _signed_in(client)
    row = db.session.execute(select(LoginSession).where(LoginSession.user_id == user.id)).scalar_one()
    assert row.end_reason == "logout"


def test_a_remember_me_cookie_is_good_for_one_comeback(app, client, auth, make_user):
    user = make_user()
    auth.login(user.username, remember=True)
    stolen = _copy(app, client, only=("remember_token",))
    comeback = _copy(app, client, only=("remember_token",))
    assert _signed_in(comeback)  # the session cookie is gone (browser closed): the remember-me cookie signs in
    assert _signed_in(comeback)  # …and keeps working with the fresh cookie it got
    assert not _signed_in(stolen)  # the old remember-me cookie named a session that was rotated away
    reasons = [r.end_reason for r in db.session.execute(
        select(LoginSession).where(LoginSession.user_id == user.id).order_by(LoginSession.created_at)).scalars()]
    assert reasons.count("rotated") == 1


def test_sign_out_everywhere_and_one_device(app, client, auth, make_user):
    user = make_user()
    phone = app.test_client()
    phone.post("/auth/login", data={"username": user.username, "password": PASSWORD},
               headers={"User-Agent": PHONE})
    laptop = app.test_client()
    laptop.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    auth.login(user.username)
    page = client.get("/account/sessions").get_data(as_text=True)
    assert "微信 · iPhone" in page and page.count("在该设备上退出") == 2 and "本设备" in page
    phone_id = db.session.execute(select(LoginSession.id).where(LoginSession.user_agent == PHONE)).scalar_one()
    assert client.post("/account/sessions", data={"session": phone_id}).status_code == 302
    assert not _signed_in(phone) and _signed_in(laptop)
    assert client.post("/account/sessions", data={"action": "everywhere"}).status_code == 302
    assert not _signed_in(laptop) and _signed_in(client)
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "auth.sessions_end")).scalars().all()


def test_someone_elses_session_cannot_be_ended_from_my_page(app, client, auth, make_user):
    victim, me = make_user(), make_user()
    theirs = app.test_client()
    theirs.post("/auth/login", data={"username": victim.username, "password": PASSWORD})
    their_id = db.session.execute(select(LoginSession.id).where(LoginSession.user_id == victim.id)).scalar_one()
    auth.login(me.username)
    client.post("/account/sessions", data={"session": their_id})
    assert _signed_in(theirs)


def test_password_change_ends_other_sessions_and_can_revoke_tokens(app, client, auth, make_user):
    user = make_user()
    token = tokens.issue(user, "phone app")
    other = app.test_client()
    other.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    auth.login(user.username)
    r = client.post("/auth/password", data={"current": PASSWORD, "new": "N3w-password", "confirm": "N3w-password",
                                            "revoke_tokens": "y"})
    assert r.status_code == 302
    assert _signed_in(client) and not _signed_in(other)
    assert tokens.user_for(token) is None
    assert db.session.execute(select(ApiToken.revoked_at)).scalar_one() is not None


def test_deactivation_and_an_admins_reset_sign_the_member_out(app, client, auth, make_user, make_org):
    org = make_org()
    admin = make_user(org=org, role="org_admin")
    user = make_user(org=org)
    auth.login(user.username)
    members.update(admin, user, active=False)
    assert not _signed_in(client)
    members.update(admin, user, active=True)
    assert not _signed_in(client)  # reactivating does not bring an ended session back
    auth.login(user.username)
    assert _signed_in(client)
    auth_services.set_password(admin, user, "Reset-passw0rd")
    assert not _signed_in(client)
    reasons = {r.end_reason for r in db.session.execute(select(LoginSession)).scalars()}
    assert {"deactivated", "reset"} <= reasons
