"""An admin token limited to a subtree sees only that subtree, whatever its owner may reach."""
import io

from elearn.orgs import members as users
from tests.api.conftest import admin_bearer


def test_limited_token_sees_only_its_subtree(client, tree):
    h = admin_bearer(tree.admin, organisation=tree.branch_b)
    roots = client.get("/api/v1/orgs", headers=h).get_json()
    assert [o["id"] for o in roots["items"]] == [tree.branch_b.id]
    assert client.get(f"/api/v1/orgs/{tree.county.id}", headers=h).status_code == 404
    assert client.get(f"/api/v1/orgs/{tree.branch_a.id}/children", headers=h).status_code == 404
    listed = {m["username"] for m in client.get("/api/v1/members", headers=h).get_json()["items"]}
    assert listed == {"member_b", "branch_b_admin"}
    assert client.get(f"/api/v1/members?org={tree.branch_a.id}", headers=h).status_code == 404
    assert client.get(f"/api/v1/members/{tree.member.id}", headers=h).status_code == 404
    assert client.get(f"/api/v1/members/{tree.member_b.id}", headers=h).status_code == 200
    assert client.get(f"/api/v1/analytics/orgs/{tree.county.id}", headers=h).status_code == 404
    assert client.get("/api/v1/analytics", headers=h).get_json()["org"]["id"] == tree.branch_b.id
    # the same admin without the limit reaches the whole county
    assert client.get(f"/api/v1/members/{tree.member.id}", headers=admin_bearer(tree.admin)).status_code == 200


def test_limited_token_writes_only_inside(client, tree):
    h = admin_bearer(tree.admin, organisation=tree.branch_b)
    r = client.post("/api/v1/members", headers=h, json={
        "username": "in_a", "name": "甲", "password": "Qz7-long-Secret!", "organisation_id": tree.branch_a.id})
    assert r.status_code == 404 and users.by_username("in_a") is None
    assert client.patch(f"/api/v1/members/{tree.member.id}", headers=h, json={"name": "x"}).status_code == 404
    r = client.post("/api/v1/trainings", headers=h, json={
        "organisation_id": tree.branch_b.id, "title": "培训", "organiser": "县委", "organiser_level": "county_above",
        "category": "political_theory", "starts_on": "2025-03-03", "ends_on": "2025-03-03", "days": 1,
        "attendees": ["member_b", "member_a"]})
    assert r.status_code == 403
    # an import row naming an organisation outside the limit (inside the owner's reach) is refused, none imported
    csv = f"用户名,姓名,组织\nin_b,乙,\nsneak_a,丙,{tree.branch_a.id}\n".encode()
    r = client.post("/api/v1/members/import", headers=h, content_type="multipart/form-data",
                    data={"organisation_id": str(tree.branch_b.id), "file": (io.BytesIO(csv), "m.csv")})
    assert r.status_code == 422 and r.get_json()["problems"][0]["row"] == 3
    assert users.by_username("in_b") is None and users.by_username("sneak_a") is None


def test_a_limit_the_owner_no_longer_manages_reaches_nothing(client, tree):
    h = admin_bearer(tree.branch_admin, organisation=tree.branch_b)
    users.transfer(tree.site_admin, tree.branch_admin, tree.branch_a)
    r = client.get("/api/v1/members", headers=h)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "limit_outside"
