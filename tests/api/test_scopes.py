"""Token scopes: what a token may do is what it was issued for; a cookie session has every scope."""
import pytest
from sqlalchemy import text

from elearn.auth import tokens
from elearn.errors import ServiceError
from elearn.extensions import db
from elearn.http.api import OPERATIONS

SID = "12345678-aaaa-4bbb-8ccc-123456789abc"


def report():
    return {"playback_session": SID, "seq": 0, "intervals": [[0, 15]], "position": 15, "rate": 1.0,
            "visible": True}


@pytest.fixture
def lesson(make_course, make_lesson, publish):
    course = make_course()
    lesson = make_lesson(course=course, duration=60)
    publish([course], sectors=["rural"])
    return lesson


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_read_token_reads_but_cannot_post_progress(client, make_user, lesson):
    member = make_user()
    token = tokens.issue(member, "reader", scopes="read")
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    r = client.post(f"/api/v1/lessons/{lesson.id}/progress", json=report(), headers=bearer(token))
    assert r.status_code == 403
    error = r.get_json()["error"]
    assert error["code"] == "insufficient_scope" and "study" in error["message"]
    assert client.get(f"/api/v1/lessons/{lesson.id}/progress", headers=bearer(token)).status_code == 200


def test_study_token_posts_progress(client, make_user, lesson):
    member = make_user()
    token = tokens.issue(member, "phone", scopes="study")
    r = client.post(f"/api/v1/lessons/{lesson.id}/progress", json=report(), headers=bearer(token))
    assert r.status_code == 200
    # study alone does not read
    assert client.get("/api/v1/me/credits", headers=bearer(token)).get_json()["error"]["code"] == \
        "insufficient_scope"


def test_cookie_session_has_every_scope(client, auth, make_user, lesson):
    member = make_user()
    auth.login(member.username)
    r = client.post(f"/api/v1/lessons/{lesson.id}/progress", json=report(),
                    headers={"X-CSRFToken": client.csrf_token()})
    assert r.status_code == 200


def test_revoked_token_is_401(client, make_user):
    member = make_user()
    token = tokens.issue(member, scopes="read,study")
    tokens.revoke(member, tokens.list_for(member)[0].id)
    r = client.get("/api/v1/me", headers=bearer(token))
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"


def test_issue_refuses_unknown_empty_and_admin_for_members(make_user, make_org):
    member = make_user()
    with pytest.raises(ServiceError) as exc:
        tokens.issue(member, scopes="read,write")
    assert exc.value.code == "bad_scope"
    with pytest.raises(ServiceError) as exc:
        tokens.issue(member, scopes="")
    assert exc.value.code == "no_scope"
    with pytest.raises(ServiceError) as exc:
        tokens.issue(member, scopes="read,admin")
    assert exc.value.code == "admin_scope_denied"
    assert tokens.list_for(member) == []


def test_org_limit_must_be_inside_the_admins_subtree(make_user, make_org):
    home = make_org()
    branch = make_org(kind="branch", parent=home)
    elsewhere = make_org()
    admin = make_user(org=home, role="org_admin")
    with pytest.raises(ServiceError) as exc:
        tokens.issue(admin, scopes="read,admin", organisation=elsewhere)
    assert exc.value.code == "limit_outside"
    with pytest.raises(ServiceError) as exc:
        tokens.issue(admin, scopes="read", organisation=branch)
    assert exc.value.code == "limit_without_admin"
    tokens.issue(admin, scopes="read,admin", organisation=branch)
    row = tokens.list_for(admin)[0]
    assert row.scope_list == ["read", "admin"] and row.organisation_id == branch.id


def test_tokens_from_before_scopes_keep_read_and_study(client, make_user, lesson):
    member = make_user()
    token = "elt_" + "o" * 43
    # A row as it was before scopes existed: the column's server default (what the migration gives them) applies.
    db.session.execute(text("INSERT INTO api_token (user_id, name, token_hash, created_at) "
                            "VALUES (:user, 'old', :hash, CURRENT_TIMESTAMP)"),
                       {"user": member.id, "hash": tokens._digest(token)})
    db.session.commit()
    assert tokens.list_for(member)[0].scope_list == ["read", "study"]
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert client.post(f"/api/v1/lessons/{lesson.id}/progress", json=report(), headers=bearer(token)).status_code \
        == 200


def test_cli_issue_token_with_scopes(runner, make_user, make_org):
    home = make_org()
    admin = make_user(org=home, role="org_admin")
    result = runner.invoke(args=["issue-token", admin.username, "--scope", "read,admin", "--org", str(home.id)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith("elt_")
    row = tokens.list_for(admin)[0]
    assert row.scope_list == ["read", "admin"] and row.organisation_id == home.id
    bad = runner.invoke(args=["issue-token", admin.username, "--scope", "everything"])
    assert bad.exit_code != 0 and "everything" in bad.output


def test_openapi_states_the_scope_of_every_operation(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "bearer" in spec["components"]["securitySchemes"]
    for op in OPERATIONS:
        item = spec["paths"][op.path][op.method.lower()]
        if op.auth:
            assert item["security"][0] == {"bearer": [op.scope]} and item["x-scope"] == op.scope
            assert "403" in item["responses"]
        else:
            assert item["security"] == []
    progress = spec["paths"]["/lessons/{lesson_id}/progress"]
    assert progress["post"]["x-scope"] == "study" and progress["get"]["x-scope"] == "read"


def test_study_token_cannot_reach_admin_endpoints(client, auth, tree):
    h = bearer(tokens.issue(tree.admin, scopes="read,study"))
    for method, url in (("GET", "/api/v1/members"), ("GET", f"/api/v1/orgs/{tree.county.id}"),
                        ("POST", "/api/v1/trainings"), ("GET", "/api/v1/analytics")):
        r = client.open(url, method=method, headers=h, json={} if method == "POST" else None)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "insufficient_scope", url
    admin_scoped = bearer(tokens.issue(tree.admin, scopes="admin"))
    assert client.get("/api/v1/members", headers=admin_scoped).status_code == 200
    assert client.get("/api/v1/me", headers=admin_scoped).get_json()["error"]["code"] == "insufficient_scope"
    auth.login(tree.admin.username)  # a cookie session has every scope
    assert client.get("/api/v1/members").status_code == 200


def test_openapi_documents_etags_and_the_import_upload(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    members = spec["paths"]["/members"]["get"]
    assert "304" in members["responses"] and "ETag" in members["responses"]["200"]["headers"]
    assert any(p["name"] == "If-None-Match" and p["in"] == "header" for p in members["parameters"])
    assert {p["name"] for p in members["parameters"]} >= {"page", "per_page", "org", "q", "role", "category"}
    page = spec["components"]["schemas"]["MemberOutPage"]
    assert set(page["required"]) >= {"items", "page", "per_page", "total"}
    upload = spec["paths"]["/members/import"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["properties"]["file"]["format"] == "binary"
    assert spec["paths"]["/members"]["post"]["x-scope"] == "admin"
