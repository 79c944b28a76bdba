from elearn.auth import tokens
from elearn.extensions import db


def test_me_requires_auth(client):
    r = client.get("/api/v1/me")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"


def test_bearer_token(client, make_user):
    user = make_user(name="令牌用户")
    token = tokens.issue(user, "test")
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.get_json()["name"] == "令牌用户"
    assert not any(c.startswith("session=") for c in r.headers.getlist("Set-Cookie"))


def test_token_stored_hashed_and_revocable(client, make_user):
    user = make_user()
    token = tokens.issue(user)
    row = tokens.list_for(user)[0]
    assert token not in row.token_hash
    tokens.revoke(user, row.id)
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_bad_auth_header(client):
    for header in ("Basic abc", "Bearer ", "Bearer elt_notatoken"):
        r = client.get("/api/v1/me", headers={"Authorization": header})
        assert r.status_code == 401


def test_session_cookie_works_and_write_needs_csrf_header(app, client, auth, make_user):
    @app.post("/api/v1/_echo")
    def echo():
        return {"ok": True}

    user = make_user()
    auth.login(user.username)
    assert client.get("/api/v1/me").get_json()["username"] == user.username
    assert client.post("/api/v1/_echo", json={}).status_code == 400
    r = client.post("/api/v1/_echo", json={}, headers={"X-CSRFToken": client.csrf_token()})
    assert r.status_code == 200


def test_tokens_page_creates_and_revokes(client, auth, make_user):
    user = make_user()
    auth.login(user.username)
    page = client.post("/account/tokens", data={"action": "create", "name": "手机"}).get_data(as_text=True)
    assert "elt_" in page
    row = tokens.list_for(user)[0]
    client.post("/account/tokens", data={"action": "revoke", "token_id": row.id})
    db.session.expire_all()
    assert tokens.list_for(user)[0].revoked_at is not None


def test_cannot_revoke_someone_elses_token(client, auth, make_user):
    owner, other = make_user(), make_user()
    tokens.issue(owner)
    row = tokens.list_for(owner)[0]
    auth.login(other.username)
    r = client.post("/account/tokens", data={"action": "revoke", "token_id": row.id})
    assert r.status_code == 403
    db.session.expire_all()
    assert tokens.list_for(owner)[0].revoked_at is None


def test_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/me" in spec["paths"]
