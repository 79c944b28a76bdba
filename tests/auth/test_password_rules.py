"""Password rules (policy.PasswordPolicy) on every path that sets a password: the user's own change page, an
admin's reset, creating and importing members; the message lists everything missing at once; the last few
passwords cannot come back; an expired password must be changed at sign-in before anything else."""
from __future__ import annotations

import io
import itertools
import re

import pytest
from sqlalchemy import func, select

from elearn.audit.models import AuditEntry
from elearn.auth import passwords
from elearn.auth import services as auth_services
from elearn.auth.models import PasswordHistory
from elearn.errors import ServiceError
from elearn.extensions import db
from elearn.orgs import members
from elearn.policy import PASSWORDS
from tests.conftest import PASSWORD

DAY = 24 * 3600


def _change(client, current, new):
    r = client.post("/auth/password", data={"current": current, "new": new, "confirm": new})
    return r.status_code, r.get_data(as_text=True)


@pytest.mark.parametrize(("weak", "missing"), [
    ("abcdefgh", ["还差 2 类", "大写字母", "数字", "符号"]),
    ("Abcdefgh", ["还差 1 类", "数字、符号"]),
    ("Ab1!", ["至少需要 8 个字符", "现有 4 个"]),
    ("ab1", ["至少需要 8 个字符", "还差 1 类"]),  # both faults in one message
])
def test_the_change_page_lists_what_a_weak_password_lacks(client, auth, make_user, weak, missing):
    user = make_user()
    auth.login(user.username)
    status, body = _change(client, PASSWORD, weak)
    assert status == 400
    for words in missing:
        assert words in body


def test_the_change_page_states_the_rules_of_the_policy(client, auth, make_user):
    auth.login(make_user().username)
    page = client.get("/auth/password").get_data(as_text=True)
    assert f"至少 {PASSWORDS.min_length} 个字符" in page and f"至少 {PASSWORDS.min_classes} 类" in page
    assert "包含字母和数字" not in page  # the rule before this policy


def test_three_of_four_classes_are_enough(client, auth, make_user):
    auth.login(make_user().username)
    assert _change(client, PASSWORD, "lower-and-digit-7")[0] == 302  # lower, symbol, digit: no upper case


def test_the_last_passwords_cannot_come_back(client, auth, make_user):
    user = make_user()
    auth.login(user.username)
    used = [PASSWORD] + [f"Next-passw0rd-{n}" for n in range(1, PASSWORDS.history)]
    for before, after in itertools.pairwise(used):
        assert _change(client, before, after)[0] == 302
    current = used[-1]
    for old in (used[0], used[-2]):  # the oldest kept and the one just before (each costs argon2 checks)
        status, body = _change(client, current, old)
        assert status == 400 and f"最近 {PASSWORDS.history} 次" in body
    # One more change pushes the oldest out of the history: it may be used again, and no more rows are kept.
    assert _change(client, current, "Yet-another-passw0rd")[0] == 302
    assert _change(client, "Yet-another-passw0rd", PASSWORD)[0] == 302
    kept = db.session.execute(select(func.count()).select_from(PasswordHistory)
                              .where(PasswordHistory.user_id == user.id)).scalar_one()
    assert kept == PASSWORDS.history


def test_an_admins_reset_follows_the_same_rules(make_user, make_org):
    org = make_org()
    admin = make_user(org=org, role="org_admin")
    member = make_user(org=org)
    with pytest.raises(ServiceError) as weak:
        auth_services.set_password(admin, member, "resetpassword")
    assert weak.value.code == "weak_password" and "还差" in weak.value.message
    with pytest.raises(ServiceError) as reused:
        auth_services.set_password(admin, member, PASSWORD)  # the member's current password
    assert reused.value.code == "reused_password"
    auth_services.set_password(admin, member, "Reset-passw0rd")


def test_creating_a_member_with_a_weak_password_is_refused_with_what_it_lacks(client, auth, make_user, make_org):
    org = make_org()
    admin = make_user(org=org, role="org_admin")
    with pytest.raises(ServiceError) as refused:
        members.create(admin, username="weakling", name="弱密码", password="password1", organisation=org)
    assert "大写字母" in refused.value.message and "符号" in refused.value.message


def test_generated_passwords_always_pass_the_rules():
    for _n in range(2000):
        password = passwords.generate_password()
        assert passwords.policy_problems(password) == []
        assert len(password) >= PASSWORDS.generated_length
        assert password[0] not in "=+-@"  # a spreadsheet opened on the list starts no formula


def test_imported_members_get_passwords_that_pass_the_rules(client, auth, make_user, make_org):
    town = make_org("镇党委")
    make_user("importadmin", org=town, role="org_admin")
    auth.login("importadmin")
    rows = "\n".join(f"gen{i:02d},党员{i}" for i in range(20))
    r = client.post("/org/import", data={"organisation_id": town.id,
                                         "file": (io.BytesIO(("用户名,姓名\n" + rows).encode()), "m.csv")},
                    content_type="multipart/form-data")
    shown = dict(re.findall(r"<td>(gen\d{2})</td><td><code>([^<]+)</code>", r.get_data(as_text=True)))
    assert len(shown) == 20
    assert all(passwords.policy_problems(p) == [] for p in shown.values())


@pytest.mark.parametrize("app_config", [{"ELEARN_PASSWORD_MAX_AGE_DAYS": 90}])
def test_an_expired_password_must_be_changed_before_anything_else(app, client, auth, make_user, site_clock):
    user = make_user()
    site_clock.advance(89 * DAY)
    assert auth.login(user.username).headers["Location"] == "/"  # not yet expired
    auth.logout()
    site_clock.advance(2 * DAY)
    r = auth.login(user.username)
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/password")
    assert "您的密码已过期，请先修改密码" in client.get("/auth/password").get_data(as_text=True)
    for path in ("/", "/account/sessions", "/account/tokens"):
        blocked = client.get(path)
        assert blocked.status_code == 302 and blocked.headers["Location"].endswith("/auth/password")
    api = client.get("/api/v1/me")
    assert api.status_code == 403 and api.get_json()["error"]["code"] == "password_expired"
    assert _change(client, PASSWORD, PASSWORD)[0] == 400  # the expired one cannot simply be set again
    assert _change(client, PASSWORD, "Fresh-passw0rd")[0] == 302
    assert client.get("/").status_code == 200
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "auth.password_expired")).scalar_one()
    # The new password is dated by its change: good for another 90 days.
    auth.logout()
    site_clock.advance(89 * DAY)
    assert auth.login(user.username, password="Fresh-passw0rd").headers["Location"] == "/"


def test_expiry_is_off_by_default(app, client, auth, make_user, site_clock):
    user = make_user()
    site_clock.advance(3 * 365 * DAY)
    assert auth.login(user.username).headers["Location"] == "/"
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("app_config", [{"ELEARN_PASSWORD_MAX_AGE_DAYS": 90, "ELEARN_TWO_FACTOR_ENFORCED": True}])
def test_an_expired_password_and_a_second_factor_to_enrol_do_not_send_each_other_round(app, client, auth,
                                                                                         make_user, site_clock):
    from elearn.orgs.models import User
    user = make_user()
    site_clock.advance(91 * DAY)
    assert auth.login(user.username).headers["Location"].endswith("/auth/password")
    db.session.get(User, user.id).role = "org_admin"  # promoted: must enrol a second factor first
    db.session.commit()
    assert client.get("/auth/password").headers["Location"].endswith("/auth/two-factor/enrol")
    assert client.get("/auth/two-factor/enrol").status_code == 200  # the enrolment page opens: no loop
