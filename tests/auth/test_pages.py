import re
from datetime import timedelta

from elearn import clock
from elearn.audit.models import AuditEntry
from elearn.extensions import db
from elearn.orgs.models import User
from tests.conftest import PASSWORD


def test_login_page_is_chinese_by_default(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert "登录" in page and 'lang="zh-CN"' in page


def test_home_requires_login(client):
    r = client.get("/")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_login_logout_roundtrip(client, auth, make_user):
    user = make_user(name="测试党员")
    r = auth.login(user.username)
    assert r.status_code == 302
    assert "测试党员" in client.get("/").get_data(as_text=True)
    auth.logout()
    assert client.get("/").status_code == 302


def test_wrong_password_gives_message_and_no_session(client, auth, make_user):
    user = make_user()
    r = auth.login(user.username, "wrong-pass1")
    assert r.status_code == 401
    assert "用户名或密码不正确" in r.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_user_gets_same_message(client, auth):
    r = auth.login("nobody", "whatever1")
    assert r.status_code == 401 and "用户名或密码不正确" in r.get_data(as_text=True)


def test_login_without_csrf_is_refused(client, make_user):
    user = make_user()
    r = client.post("/auth/login", data={"username": user.username, "password": PASSWORD}, csrf=False)
    assert r.status_code == 400
    assert client.get("/").status_code == 302


def test_lockout_after_repeated_failures(app, client, auth, make_user):
    user = make_user()
    for _ in range(app.config["ELEARN_LOGIN_MAX_FAILURES"]):
        auth.login(user.username, "bad-guess1")
    r = auth.login(user.username)  # right password, but locked
    assert r.status_code == 401 and "用户名或密码不正确" in r.get_data(as_text=True)
    lockout = db.session.query(AuditEntry).filter_by(action="auth.lockout").one()
    assert lockout.object_id == user.id
    failures = db.session.query(AuditEntry).filter_by(action="auth.failure", object_id=user.id).count()
    assert failures == app.config["ELEARN_LOGIN_MAX_FAILURES"]
    db.session.refresh(user)
    user.locked_until = clock.now_utc() - timedelta(seconds=1)
    db.session.commit()
    assert auth.login(user.username).status_code == 302


def _answer(response):
    """What a login page tells the person: status and the form's error message."""
    text = response.get_data(as_text=True)
    return response.status_code, re.findall(r'<p class="error"[^>]*>([^<]+)<', text)


def test_a_locked_account_answers_like_an_unknown_name(app, client, auth, make_user):
    """Probing names by their lockout tells nothing: a real account locked after repeated failures, a wrong
    password and a name that does not exist all get the same answer."""
    user = make_user()
    answers = {}
    for name in (user.username, "nobody-here"):
        for _ in range(app.config["ELEARN_LOGIN_MAX_FAILURES"]):
            auth.login(name, "bad-guess1")
        answers[name] = (_answer(auth.login(name, "bad-guess1")), _answer(auth.login(name, PASSWORD)))
    assert answers[user.username] == answers["nobody-here"]
    (status, messages), _ = answers["nobody-here"]
    assert status == 401 and messages and "用户名或密码不正确" in messages[0]


def test_inactive_user_cannot_login(client, auth, make_user):
    user = make_user()
    user.active = False
    db.session.commit()
    assert auth.login(user.username).status_code == 403


def test_session_cookie_flags(client, auth, make_user):
    user = make_user()
    r = auth.login(user.username, remember=True)
    cookies = r.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    remember_cookie = next(c for c in cookies if c.startswith("remember_token="))
    for c in (session_cookie, remember_cookie):
        assert "HttpOnly" in c and "SameSite=Lax" in c


def test_secure_cookie_behind_https(tmp_path, monkeypatch):
    monkeypatch.setenv("ELEARN_HTTPS", "1")
    from elearn import create_app
    app = create_app({"INSTANCE_PATH": str(tmp_path / "i")})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_open_redirect_refused(client, make_user):
    user = make_user()
    r = client.post("/auth/login?next=//evil.example/x", data={"username": user.username, "password": PASSWORD})
    assert r.headers["Location"] == "/"


def test_change_password_ends_other_sessions(app, client, auth, make_user):
    user = make_user()
    other = app.test_client()
    other.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    assert other.get("/").status_code == 200
    auth.login(user.username)
    r = client.post("/auth/password", data={"current": PASSWORD, "new": "N3w-password", "confirm": "N3w-password"})
    assert r.status_code == 302
    assert client.get("/").status_code == 200  # this session continues
    assert other.get("/").status_code == 302  # the other one is over
    auth.logout()
    assert auth.login(user.username).status_code == 401
    assert auth.login(user.username, "N3w-password").status_code == 302


def test_change_password_policy_and_wrong_current(client, auth, make_user):
    user = make_user()
    auth.login(user.username)
    r = client.post("/auth/password", data={"current": PASSWORD, "new": "short", "confirm": "short"})
    assert r.status_code == 400 and "至少需要" in r.get_data(as_text=True)
    r = client.post("/auth/password", data={"current": "not-it-1", "new": "G00d-password", "confirm": "G00d-password"})
    assert r.status_code == 400 and "当前密码不正确" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == user.password_hash  # nothing changed


def test_language_switch_is_remembered_on_the_account(app, client, auth, make_user):
    user = make_user()
    auth.login(user.username)
    client.post("/auth/locale/en", data={"next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in page and "Log out" in page
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"
    # A new session on another device gets the remembered language after login.
    other = app.test_client()
    other.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    assert "Log out" in other.get("/").get_data(as_text=True)


def test_unknown_locale_is_refused(client):
    client.post("/auth/locale/xx", data={"next": "/auth/login"})
    assert 'lang="zh-CN"' in client.get("/auth/login").get_data(as_text=True)
