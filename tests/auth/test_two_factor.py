"""Two-factor sign-in through the pages: admins must enrol before anything else, sign-in is password then code
(replays and lapsed half-sign-ins refused, recovery codes good once), members may opt in and out, a higher
admin resets a lost device, every change is audited, and the secret is not in the database file."""
from __future__ import annotations

import re
from calendar import timegm
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from elearn.audit.models import AuditEntry
from elearn.auth import two_factor
from elearn.auth.models import LoginSession, RecoveryCode, TwoFactor
from elearn.extensions import db
from elearn.orgs.models import User
from elearn.policy import TWO_FACTOR
from tests.conftest import PASSWORD

ENROL = "/auth/two-factor/enrol"
VERIFY = "/auth/two-factor"


@pytest.fixture
def app_config():
    return {"ELEARN_TWO_FACTOR_ENFORCED": True}


def _secret_on(page: str) -> str:
    return re.search(r'id="totp-secret">([^<]+)<', page).group(1).replace(" ", "")


def _codes_on(page: str) -> list[str]:
    block = re.search(r'id="recovery-codes">(.*?)</ul>', page, re.S).group(1)
    return re.findall(r"<li>([^<]+)</li>", block)


def _code(secret: str, site_clock, offset_steps: int = 0) -> str:
    step = timegm(site_clock.utc.utctimetuple()) // TWO_FACTOR.step_seconds + offset_steps
    return pyotp.TOTP(secret).generate_otp(step)


def _sessions(user) -> list[LoginSession]:
    return list(db.session.execute(select(LoginSession).where(LoginSession.user_id == user.id)).scalars())


def _actions(user) -> list[str]:
    return list(db.session.execute(select(AuditEntry.action).where(
        AuditEntry.object_type == "user_account", AuditEntry.object_id == user.id,
        AuditEntry.action.startswith("auth.2fa")).order_by(AuditEntry.id)).scalars())


def _enrol(client, auth, user, site_clock) -> tuple[str, list[str]]:
    """Sign in with the password, enrol through the page; returns the secret and the recovery codes."""
    r = auth.login(user.username)
    assert r.status_code == 302 and r.location.endswith(ENROL)
    secret = _secret_on(client.get(ENROL).get_data(as_text=True))
    page = client.post(ENROL, data={"code": _code(secret, site_clock)})
    assert page.status_code == 200, page.get_data(as_text=True)
    return secret, _codes_on(page.get_data(as_text=True))


def _enrolled(client, auth, user, site_clock) -> tuple[str, list[str]]:
    """Enrolled, then signed out, and a step later (the enrolment's code is used up)."""
    secret, codes = _enrol(client, auth, user, site_clock)
    auth.logout()
    site_clock.advance(TWO_FACTOR.step_seconds)
    return secret, codes


def test_an_admin_with_only_the_password_is_held_on_the_enrolment_page(client, auth, make_user, site_clock):
    admin = make_user(role="site_admin")
    r = auth.login(admin.username)
    assert r.status_code == 302 and r.location.endswith(ENROL)
    assert _sessions(admin) == []  # half-signed-in is not a login session
    for path in ("/", "/admin/members", "/account/tokens", "/account/sessions", "/account/two-factor"):
        r = client.get(path)
        assert r.status_code == 302 and r.location.endswith(ENROL), path
    r = client.get("/api/v1/me")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "two_factor_required"
    page = client.get(ENROL).get_data(as_text=True)
    assert "<svg" in page and "qr-code" in page and len(_secret_on(page)) == 32
    assert _secret_on(client.get(ENROL).get_data(as_text=True)) == _secret_on(page)


def test_enrolment_needs_a_valid_code_and_then_signs_in_with_ten_codes_shown_once(client, auth, make_user,
                                                                                 site_clock):
    admin = make_user(role="org_admin")
    auth.login(admin.username)
    secret = _secret_on(client.get(ENROL).get_data(as_text=True))
    wrong = f"{(int(_code(secret, site_clock)) + 1) % 10**6:06d}"
    r = client.post(ENROL, data={"code": wrong})
    assert r.status_code == 400 and "验证码不正确" in r.get_data(as_text=True)
    assert not two_factor.is_enabled(admin) and _sessions(admin) == []
    r = client.post(ENROL, data={"code": _code(secret, site_clock)})
    codes = _codes_on(r.get_data(as_text=True))
    assert r.status_code == 200 and len(codes) == 10 and len(set(codes)) == 10
    assert len(_sessions(admin)) == 1 and client.get("/").status_code == 200
    assert _actions(admin) == ["auth.2fa.enrol"]
    stored = set(db.session.execute(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == admin.id)).scalars())
    assert len(stored) == 10 and not stored & set(codes)
    # The codes are shown once: the account page says how many are left, not what they are.
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "10" in page and not any(c in page for c in codes)


def test_sign_in_is_password_then_code_and_a_used_code_is_refused(client, auth, make_user, site_clock):
    admin = make_user(role="site_admin")
    secret, _codes = _enrolled(client, auth, admin, site_clock)
    r = auth.login(admin.username)
    assert r.status_code == 302 and r.location.endswith(VERIFY)
    sessions_before = len(_sessions(admin))
    assert client.get("/").location.endswith(VERIFY)
    r = client.post(VERIFY, data={"code": "000000" if _code(secret, site_clock) != "000000" else "111111"})
    assert r.status_code == 401 and "验证码不正确" in r.get_data(as_text=True)
    assert len(_sessions(admin)) == sessions_before  # a wrong code changes nothing
    assert _actions(admin)[-1] == "auth.2fa.failure"
    code = _code(secret, site_clock)
    r = client.post(VERIFY, data={"code": code})
    assert r.status_code == 302 and client.get("/").status_code == 200
    assert len(_sessions(admin)) == sessions_before + 1
    auth.logout()
    auth.login(admin.username)
    assert client.post(VERIFY, data={"code": code}).status_code == 401  # the same code again: a replay
    # The previous step's code is older than the one used: refused too; the next step's is accepted.
    assert client.post(VERIFY, data={"code": _code(secret, site_clock, -1)}).status_code == 401
    assert client.post(VERIFY, data={"code": _code(secret, site_clock, +1)}).status_code == 302


def test_a_code_of_the_neighbouring_step_is_accepted_but_not_two_steps_away(client, auth, make_user, site_clock):
    user = make_user(role="org_admin")
    secret, _codes = _enrolled(client, auth, user, site_clock)
    site_clock.advance(10 * TWO_FACTOR.step_seconds)
    auth.login(user.username)
    assert client.post(VERIFY, data={"code": _code(secret, site_clock, -2)}).status_code == 401
    assert client.post(VERIFY, data={"code": _code(secret, site_clock, -1)}).status_code == 302


def test_a_recovery_code_signs_in_once(client, auth, make_user, site_clock):
    admin = make_user(role="site_admin")
    _secret, codes = _enrolled(client, auth, admin, site_clock)
    auth.login(admin.username)
    r = client.post(VERIFY, data={"code": codes[3].upper()})  # typed in capitals: the same code
    assert r.status_code == 302
    assert "还剩 9 个" in client.get("/").get_data(as_text=True)
    assert "auth.2fa.recovery_used" in _actions(admin)
    auth.logout()
    auth.login(admin.username)
    assert client.post(VERIFY, data={"code": codes[3]}).status_code == 401
    assert client.post(VERIFY, data={"code": codes[4]}).status_code == 302


def test_the_half_signed_in_state_lapses(client, auth, make_user, site_clock):
    admin = make_user(role="site_admin")
    secret, _codes = _enrolled(client, auth, admin, site_clock)
    auth.login(admin.username)
    site_clock.advance(TWO_FACTOR.pending_seconds + 1)
    r = client.post(VERIFY, data={"code": _code(secret, site_clock)})
    assert r.status_code == 302 and r.location.endswith("/auth/login")
    assert client.get("/").status_code == 302 and client.get("/").location.startswith("/auth/login")
    assert len(_sessions(admin)) == 1  # only the enrolment's sign-in, since ended


def test_cancel_gives_up_the_half_sign_in(client, auth, make_user, site_clock):
    admin = make_user(role="site_admin")
    _enrolled(client, auth, admin, site_clock)
    auth.login(admin.username)
    assert client.post("/auth/two-factor/cancel").location.endswith("/auth/login")
    assert client.get(VERIFY).location.endswith("/auth/login")


class TestLimits:
    @pytest.fixture
    def app_config(self):
        return {"ELEARN_TWO_FACTOR_ENFORCED": True, "RATELIMIT_ENABLED": True}

    def test_wrong_codes_are_limited_per_account(self, app, client, auth, make_user, site_clock):
        admin = make_user(role="site_admin")
        secret, _codes = _enrolled(client, auth, admin, site_clock)
        auth.login(admin.username)
        per_minute = int(TWO_FACTOR.limit_per_account.split()[0])
        wrong = f"{(int(_code(secret, site_clock)) + 5) % 10**6:06d}"
        for _i in range(per_minute):
            assert client.post(VERIFY, data={"code": wrong}).status_code == 401
        # Beyond the limit even the right code is not looked at, from another address too.
        r = client.post(VERIFY, data={"code": _code(secret, site_clock)}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert r.status_code == 429
        assert client.get("/").location.endswith(VERIFY)


def test_members_may_opt_in_and_out(client, auth, make_user, site_clock):
    member = make_user()
    assert auth.login(member.username).location.endswith("/")  # no second factor asked of members
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "两步验证未启用" in page
    secret = _secret_on(client.get(ENROL).get_data(as_text=True))
    r = client.post(ENROL, data={"code": _code(secret, site_clock)})
    assert r.status_code == 200 and len(_codes_on(r.get_data(as_text=True))) == 10
    auth.logout()
    site_clock.advance(TWO_FACTOR.step_seconds)
    assert auth.login(member.username).location.endswith(VERIFY)
    assert client.post(VERIFY, data={"code": _code(secret, site_clock)}).status_code == 302
    r = client.post("/account/two-factor", data={"action": "disable", "password": "wrong-password"})
    assert r.status_code == 400 and two_factor.is_enabled(member)
    r = client.post("/account/two-factor", data={"action": "disable", "password": PASSWORD})
    assert r.status_code == 302 and not two_factor.is_enabled(member)
    assert db.session.execute(select(RecoveryCode).where(RecoveryCode.user_id == member.id)).first() is None
    auth.logout()
    assert auth.login(member.username).location.endswith("/")
    assert _actions(member) == ["auth.2fa.enrol", "auth.2fa.disable"]


def test_a_role_that_requires_it_cannot_turn_it_off(client, auth, make_user, site_clock):
    admin = make_user(role="org_admin")
    secret, _codes = _enrol(client, auth, admin, site_clock)
    site_clock.advance(TWO_FACTOR.step_seconds)
    r = client.post("/account/two-factor", data={"action": "disable", "code": _code(secret, site_clock)})
    assert r.status_code == 403 and two_factor.is_enabled(admin)


def test_regenerated_codes_replace_the_old_ones(client, auth, make_user, site_clock):
    admin = make_user(role="site_admin")
    secret, old = _enrol(client, auth, admin, site_clock)
    assert client.post("/account/two-factor", data={"action": "regenerate"}).status_code == 400  # no proof
    site_clock.advance(TWO_FACTOR.step_seconds)
    r = client.post("/account/two-factor", data={"action": "regenerate", "code": _code(secret, site_clock)})
    new = _codes_on(r.get_data(as_text=True))
    assert r.status_code == 200 and len(new) == 10 and not set(new) & set(old)
    auth.logout()
    auth.login(admin.username)
    assert client.post(VERIFY, data={"code": old[0]}).status_code == 401
    assert client.post(VERIFY, data={"code": new[0]}).status_code == 302
    assert _actions(admin) == ["auth.2fa.enrol", "auth.2fa.codes_regenerated", "auth.2fa.failure",
                               "auth.2fa.recovery_used"]


def _signed_in_as(app, user, site_clock):
    """A client of ``user`` signed in with both factors (enrolling on the way)."""
    c = app.test_client()
    from tests.conftest import AuthActions
    secret, _codes = _enrolled(c, AuthActions(c), user, site_clock)
    AuthActions(c).login(user.username)
    assert c.post(VERIFY, data={"code": _code(secret, site_clock)}).status_code == 302
    return c


def test_a_higher_admin_resets_a_lost_device(app, client, auth, make_user, make_org, site_clock):
    top = make_org()
    branch = make_org(kind="branch", parent=top)
    site_admin = make_user(role="site_admin", org=top)
    branch_admin = make_user(role="org_admin", org=branch)
    victim = _signed_in_as(app, branch_admin, site_clock)
    assert victim.get("/").status_code == 200
    admin_client = _signed_in_as(app, site_admin, site_clock)
    page = admin_client.get(f"/admin/members/{branch_admin.id}").get_data(as_text=True)
    assert "重置两步验证" in page
    r = admin_client.post(f"/admin/members/{branch_admin.id}/two-factor/reset")
    assert r.status_code == 302
    assert victim.get("/").status_code == 302  # every session of theirs ended at once
    ended = {s.end_reason for s in _sessions(branch_admin)}
    assert ended == {"2fa_reset"} or ended == {"logout", "2fa_reset"}
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "auth.2fa.reset")).scalar_one()
    assert entry.actor_id == site_admin.id and entry.object_id == branch_admin.id
    assert db.session.execute(select(RecoveryCode).where(RecoveryCode.user_id == branch_admin.id)).first() is None
    # Next sign-in: enrol again (a new secret).
    from tests.conftest import AuthActions
    c = app.test_client()
    assert AuthActions(c).login(branch_admin.username).location.endswith(ENROL)


def test_a_reset_member_must_enrol_again_even_where_it_is_optional(app, client, auth, make_user, make_org,
                                                                  site_clock):
    org = make_org()
    member = make_user(org=org)
    auth.login(member.username)
    secret = _secret_on(client.get(ENROL).get_data(as_text=True))
    assert client.post(ENROL, data={"code": _code(secret, site_clock)}).status_code == 200
    auth.logout()
    admin_client = _signed_in_as(app, make_user(role="org_admin", org=org), site_clock)
    assert admin_client.post(f"/admin/members/{member.id}/two-factor/reset").status_code == 302
    assert auth.login(member.username).location.endswith(ENROL)
    assert client.get("/").location.endswith(ENROL)


def test_who_may_reset_whom(make_user, make_org, app):
    top = make_org()
    mid = make_org(parent=top)
    other = make_org()
    site_admin = make_user(role="site_admin", org=top)
    top_admin = make_user(role="org_admin", org=top)
    peer_admin = make_user(role="org_admin", org=top)
    mid_admin = make_user(role="org_admin", org=mid)
    member = make_user(org=mid)
    outsider = make_user(org=other)
    may = two_factor.may_reset
    assert may(site_admin, top_admin) and may(site_admin, make_user(role="site_admin"))
    assert may(top_admin, member) and may(top_admin, mid_admin)
    assert not may(top_admin, peer_admin)  # an admin of the same organisation
    assert not may(mid_admin, top_admin)  # of a higher one
    assert not may(top_admin, site_admin) and not may(top_admin, outsider) and not may(member, member)
    assert not may(site_admin, site_admin)  # one's own: the recovery codes are for that


def test_an_org_admin_outside_their_scope_gets_403(app, make_user, make_org, site_clock):
    top = make_org()
    peer = make_user(role="org_admin", org=top)
    admin_client = _signed_in_as(app, make_user(role="org_admin", org=top), site_clock)
    assert admin_client.post(f"/admin/members/{peer.id}/two-factor/reset").status_code == 403
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "auth.2fa.reset")).first() is None


def test_a_promoted_member_must_enrol_before_anything_and_gets_no_token(client, auth, make_user, site_clock):
    from elearn.auth import tokens
    user = make_user()
    token = tokens.issue(user)
    auth.login(user.username)
    db.session.get(User, user.id).role = "org_admin"
    db.session.commit()
    assert client.get("/").location.endswith(ENROL)
    r = client.post("/account/tokens", data={"action": "create", "name": "x"})
    assert r.status_code == 302 and r.location.endswith(ENROL)
    assert len(tokens.list_for(user)) == 1
    # A token is its own factor: the API it was issued for still answers.
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


class TestNotEnforced:
    """ELEARN_TWO_FACTOR_ENFORCED=0 (the rest of the test suite): admins sign in with the password, but one who
    enrolled still gives the code, and the token page refuses nobody."""

    @pytest.fixture
    def app_config(self):
        return {"ELEARN_TWO_FACTOR_ENFORCED": False}

    def test_enrolled_users_still_give_their_code(self, client, auth, make_user, site_clock):
        admin = make_user(role="site_admin")
        assert auth.login(admin.username).location.endswith("/")
        secret = _secret_on(client.get(ENROL).get_data(as_text=True))
        assert client.post(ENROL, data={"code": _code(secret, site_clock)}).status_code == 200
        auth.logout()
        assert auth.login(admin.username).location.endswith(VERIFY)


def test_the_previous_sign_in_is_shown(client, auth, make_user, site_clock):
    from datetime import datetime
    user = make_user()
    site_clock.set_site(datetime(2026, 3, 2, 8, 15))
    client.post("/auth/login", data={"username": user.username, "password": PASSWORD},
                environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert "上次登录" not in client.get("/").get_data(as_text=True)  # the first sign-in has no previous one
    auth.logout()
    site_clock.set_site(datetime(2026, 3, 3, 20, 0))
    client.post("/auth/login", data={"username": user.username, "password": PASSWORD},
                environ_base={"REMOTE_ADDR": "10.4.5.6"})
    page = client.get("/").get_data(as_text=True)
    assert "上次登录：2026-03-02 08:15 · 10.1.2.3" in page
    assert "上次登录" not in client.get("/").get_data(as_text=True)  # a notice, shown once


def test_a_remember_me_comeback_is_not_the_previous_sign_in(app, client, auth, make_user, site_clock):
    from elearn.auth import services as auth_services
    user = make_user()
    client.post("/auth/login", data={"username": user.username, "password": PASSWORD, "remember": "y"},
                environ_base={"REMOTE_ADDR": "10.1.1.1"})
    first = _sessions(user)[0]
    site_clock.advance(3600)
    with app.test_request_context():
        user.login_session_id = first.id
        auth_services.rotate_session(user)
    rows = sorted(_sessions(user), key=lambda s: s.created_at)
    assert two_factor.previous_sign_in(user, current=None).id == first.id
    assert rows[-1].id != first.id


def test_the_secret_is_not_in_the_database_file(app, client, auth, make_user, site_clock):
    admin = make_user(role="site_admin")
    secret, codes = _enrol(client, auth, admin, site_clock)
    row = db.session.get(TwoFactor, admin.id)
    assert secret not in row.secret_encrypted and row.secret_encrypted.startswith("v1:")
    if db.engine.dialect.name == "sqlite":
        db.session.commit()
        db.engine.dispose()
        path = Path(db.engine.url.database)
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert secret.encode() not in raw and not any(c.encode() in raw for c in codes)
    # Bound to the account: the value moved to another user's row does not decrypt.
    with pytest.raises(ValueError):
        two_factor.decrypt_secret(admin.id + 1, row.secret_encrypted)
    assert two_factor.decrypt_secret(admin.id, row.secret_encrypted) == secret


def test_a_different_secret_key_cannot_read_the_secret(app, make_user):
    user = make_user()
    stored = two_factor.encrypt_secret(user.id, "JBSWY3DPEHPK3PXP")
    app.config["SECRET_KEY"] = "another-key"
    with pytest.raises(ValueError):
        two_factor.decrypt_secret(user.id, stored)


def test_a_members_requests_do_not_look_up_the_second_factor(app, client, auth, make_user):
    from sqlalchemy import event
    member = make_user()
    auth.login(member.username)
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", before)
    try:
        assert client.get("/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert seen and not [s for s in seen if "two_factor" in s]
