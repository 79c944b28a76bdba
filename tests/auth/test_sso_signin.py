"""Sign-in through CAS and OpenID Connect against real providers on loopback (tests/providers): the full round
trip through the providers' own sign-in forms, and every way back that must be refused without changing
anything."""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from sqlalchemy import func, select

from elearn import create_app
from elearn.audit.models import AuditEntry
from elearn.auth import sso
from elearn.auth.models import LoginSession, SignInIdentity
from elearn.config import Config
from elearn.orgs import members
from elearn.orgs.models import User
from tests.conftest import PASSWORD
from tests.providers.fixtures import (  # noqa: F401 - fixtures
    cas_server,
    cas_sign_in,
    oidc_provider,
    oidc_sign_in,
    sso_app_config,
)


@pytest.fixture
def app_config(sso_app_config):  # noqa: F811
    return sso_app_config


def _start(client, pid: str, **args) -> str:
    answer = client.get(f"/auth/sso/{pid}" + ("?" + urlencode(args) if args else ""))
    assert answer.status_code == 302, answer.get_data(as_text=True)[-500:]
    return answer.headers["Location"]


def _with(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _signed_in(db, username: str) -> int:
    user = db.session.execute(select(User).where(User.username == username)).scalar_one()
    return db.session.scalar(select(func.count()).select_from(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)))


def _actions(db, user) -> list[str]:
    return list(db.session.execute(select(AuditEntry.action).where(AuditEntry.actor_id == user.id)
                                   .order_by(AuditEntry.id)).scalars())


def _counts(db) -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(SignInIdentity)),
            db.session.scalar(select(func.count()).select_from(LoginSession)))


def test_sign_in_page_has_a_button_per_provider(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert "通过大学统一身份认证登录" in page and "通过单位账号登录" in page and "/auth/sso/staff" in page


def test_cas3_round_trip_signs_in_the_member_of_that_username(client, db, make_user):
    user = make_user("zhang.san")
    back = cas_sign_in(_start(client, "uni", next="/learn"), "zhang.san")
    assert "ticket=ST-" in back and "state=" in back
    answer = client.get(back)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/learn")
    assert _signed_in(db, "zhang.san") == 1
    row = db.session.execute(select(SignInIdentity)).scalar_one()
    assert (row.user_id, row.provider, row.subject) == (user.id, "uni", "zhang.san")
    # The provider's answer, the link it made and the sign-in itself are audited.
    assert _actions(db, user) == ["auth.sso.link", "auth.sso.login", "auth.login"]
    assert client.get("/").status_code == 200


def test_cas2_round_trip(client, db, make_user):
    make_user("zhang.san")
    assert client.get(cas_sign_in(_start(client, "uni2"), "zhang.san")).status_code == 302
    assert _signed_in(db, "zhang.san") == 1


def test_a_wrong_ticket_is_refused(client, db, make_user):
    make_user("zhang.san")
    back = _with(cas_sign_in(_start(client, "uni"), "zhang.san"), ticket="ST-1-forged0000000000000000-cas")
    before = _counts(db)
    answer = client.get(back)
    assert answer.status_code == 401
    assert "未能确认您的身份" in answer.get_data(as_text=True)
    assert _counts(db) == before


def test_a_replayed_ticket_is_refused(client, db, make_user):
    make_user("zhang.san")
    client.csrf_token()  # (read from the sign-in page, while signed out)
    back = cas_sign_in(_start(client, "uni"), "zhang.san")
    assert client.get(back).status_code == 302
    client.post("/auth/logout")
    # The same return again: this browser's state was used up.
    again = client.get(back)
    assert again.status_code == 400 and "登录请求已失效" in again.get_data(as_text=True)
    # A fresh round trip's state with the old ticket: the CAS server has consumed the ticket.
    fresh_state = parse_qs(urlsplit(parse_qs(urlsplit(_start(client, "uni")).query)["service"][0]).query)["state"][0]
    answer = client.get(_with(back, state=fresh_state))
    assert answer.status_code == 401 and "未能确认您的身份" in answer.get_data(as_text=True)
    assert _signed_in(db, "zhang.san") == 0


def test_a_ticket_brought_to_another_browser_is_refused(app, client, db, make_user):
    make_user("zhang.san")
    back = cas_sign_in(_start(client, "uni"), "zhang.san")
    other = app.test_client()  # never left for the provider: no state of its own
    answer = other.get(back)
    assert answer.status_code == 400
    assert _signed_in(db, "zhang.san") == 0


def test_an_unknown_account_is_refused_and_nothing_is_created(client, db, make_user):
    make_user("zhang.san")
    before = _counts(db)
    answer = client.get(cas_sign_in(_start(client, "uni"), "stranger"))
    assert answer.status_code == 401
    assert "不对应" in answer.get_data(as_text=True)
    assert _counts(db) == before


def test_a_deactivated_member_is_refused(client, db, make_user):
    user = make_user("li.si")
    user.active = False
    db.session.commit()
    answer = client.get(cas_sign_in(_start(client, "uni"), "li.si"))
    assert answer.status_code == 403 and "已停用" in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0


def test_a_cas_server_that_is_down_gets_a_message(client, db):
    start = _start(client, "casdown")  # leaving needs no answer from it
    state = parse_qs(urlsplit(parse_qs(urlsplit(start).query)["service"][0]).query)["state"][0]
    answer = client.get("/auth/sso/casdown/callback?" + urlencode({"state": state, "ticket": "ST-1-x"}))
    assert answer.status_code == 502
    assert "暂时无法连接停机的 CAS" in answer.get_data(as_text=True)


def test_a_cas_server_answering_nonsense_gets_a_message(client):
    start = _start(client, "casjunk")
    state = parse_qs(urlsplit(parse_qs(urlsplit(start).query)["service"][0]).query)["state"][0]
    answer = client.get("/auth/sso/casjunk/callback?" + urlencode({"state": state, "ticket": "ST-1-x"}))
    assert answer.status_code == 502 and "暂时无法连接配错的 CAS" in answer.get_data(as_text=True)


def test_an_oidc_provider_that_is_down_gets_a_message(client):
    answer = client.get("/auth/sso/oidcdown")
    assert answer.status_code == 502
    assert "暂时无法连接停机的 OIDC" in answer.get_data(as_text=True)


def test_oidc_round_trip_matches_by_email(client, db, make_org):
    user = members.create(None, username="lisi2024", name="李四", password=PASSWORD, organisation=make_org(),
                          email="LiSi@UNI.example.cn")  # the domain's case does not matter; encrypted at rest
    authorize = _start(client, "corp")
    assert {"state", "nonce", "code_challenge"} <= set(parse_qs(urlsplit(authorize).query))
    answer = client.get(oidc_sign_in(authorize, "li.si"))
    assert answer.status_code == 302
    assert _signed_in(db, "lisi2024") == 1
    row = db.session.execute(select(SignInIdentity)).scalar_one()
    assert (row.user_id, row.provider, row.subject) == (user.id, "corp", "sub-li")


def test_oidc_employee_number_matched_to_usernames(client, db, make_user):
    make_user("E1003")
    assert client.get(oidc_sign_in(_start(client, "staff"), "wang.wu")).status_code == 302
    assert _signed_in(db, "E1003") == 1


def test_oidc_state_mismatch_is_refused(client, db, make_user):
    make_user("E1003")
    back = _with(oidc_sign_in(_start(client, "staff"), "wang.wu"), state="someone-elses-state")
    before = _counts(db)
    answer = client.get(back)
    assert answer.status_code == 400 and "登录请求已失效" in answer.get_data(as_text=True)
    assert _counts(db) == before


def test_oidc_nonce_mismatch_is_refused(client, db, make_user):
    """A code obtained for another nonce (an attacker's own sign-in slipped into this browser's return)."""
    make_user("E1003")
    back = oidc_sign_in(_with(_start(client, "staff"), nonce="attackers-nonce"), "wang.wu")
    before = _counts(db)
    answer = client.get(back)
    assert answer.status_code == 401 and "无法验证" in answer.get_data(as_text=True)
    assert _counts(db) == before


def test_oidc_wrong_code_is_refused(client, db, make_user):
    make_user("E1003")
    answer = client.get(_with(oidc_sign_in(_start(client, "staff"), "wang.wu"), code="not-a-code"))
    assert answer.status_code == 401
    assert _signed_in(db, "E1003") == 0


def test_an_admin_still_gives_the_second_factor(app, client, db, make_user):
    app.config["ELEARN_TWO_FACTOR_ENFORCED"] = True
    make_user("zhang.san", role="org_admin")
    answer = client.get(cas_sign_in(_start(client, "uni"), "zhang.san"))
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/auth/two-factor/enrol")
    assert _signed_in(db, "zhang.san") == 0  # no login session before the second factor
    assert client.get("/").headers["Location"].endswith("/auth/two-factor/enrol")


def test_garbage_at_the_callback_is_a_clear_refusal(client):
    for query in ("", "?state=x", "?ticket=" + "A" * 5000, "?state=%00&ticket=%ff"):
        assert client.get("/auth/sso/uni/callback" + query).status_code == 400
    assert client.get("/auth/sso/nosuch").status_code == 404
    assert client.get("/auth/sso/nosuch/callback").status_code == 404


@pytest.mark.parametrize(("provider", "named"), [
    ({"id": "x", "kind": "saml"}, "KIND"),
    ({"id": "x", "kind": "cas"}, "SERVER_URL"),
    ({"id": "x", "kind": "oidc", "issuer": "https://idp.example"}, "CLIENT_ID"),
    ({"id": "x", "kind": "cas", "server_url": "https://cas.example/", "match_by": "phone"}, "MATCH_BY"),
    ({"id": "bad id", "kind": "cas", "server_url": "https://cas.example/"}, "id"),
])
def test_a_wrong_provider_setting_stops_the_app_at_start_up(tmp_path, provider, named):
    with pytest.raises(ValueError, match=named):
        create_app({"INSTANCE_PATH": str(tmp_path), "ELEARN_SSO_PROVIDERS": [provider]})


def test_providers_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ELEARN_SSO_PROVIDERS", "uni, corp")
    monkeypatch.setenv("ELEARN_SSO_UNI_KIND", "cas")
    monkeypatch.setenv("ELEARN_SSO_UNI_SERVER_URL", "https://cas.uni.example/cas/")
    monkeypatch.setenv("ELEARN_SSO_CORP_KIND", "oidc")
    monkeypatch.setenv("ELEARN_SSO_CORP_ISSUER", "https://idp.corp.example")
    monkeypatch.setenv("ELEARN_SSO_CORP_CLIENT_ID", "elearn")
    monkeypatch.setenv("ELEARN_SSO_CORP_MATCH_BY", "email")
    found = sso.check_config(Config(str(tmp_path)).__dict__)
    assert list(found) == ["uni", "corp"]
    assert found["uni"].server_url == "https://cas.uni.example/cas/" and found["uni"].cas_version == 3
    assert (found["corp"].issuer, found["corp"].client_id, found["corp"].match_by) == \
        ("https://idp.corp.example", "elearn", "email")
