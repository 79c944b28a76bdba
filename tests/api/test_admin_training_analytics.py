"""Training records and analytics figures through the admin API."""
from elearn.ledger import services as ledger
from tests.api.conftest import admin_bearer, bearer


def training(org, attendees, **kw):
    return {"organisation_id": org.id, "title": "县委党校轮训", "organiser": "某某县委",
            "organiser_level": "county_above", "offjob": True, "category": "political_theory",
            "starts_on": "2025-03-03", "ends_on": "2025-03-07",
            "days": 5, "attendees": attendees, **kw}


def test_record_training_credits_attendees_and_lists_it(client, tree):
    h = admin_bearer(tree.admin)
    r = client.post("/api/v1/trainings", headers=h, json=training(tree.branch_a, ["member_a", "member_b"]))
    assert r.status_code == 200, r.get_json()
    recorded = r.get_json()
    assert recorded["hours"] == 40 and recorded["attendees"] == 2
    assert ledger.total_hours(tree.member) == 40
    listed = client.get("/api/v1/trainings", headers=h)
    assert [t["id"] for t in listed.get_json()["items"]] == [recorded["id"]]
    etag = listed.headers["ETag"]
    assert client.get("/api/v1/trainings", headers={**h, "If-None-Match": etag}).status_code == 304
    assert client.get("/api/v1/trainings?offjob=false", headers=h).get_json()["total"] == 0
    assert client.get("/api/v1/trainings?ended_from=2025-03-08", headers=h).get_json()["total"] == 0
    assert client.get(f"/api/v1/trainings?org={tree.branch_b.id}", headers=h).get_json()["total"] == 0
    client.post("/api/v1/trainings", headers=h, json=training(tree.branch_b, ["member_b"], title="第二次"))
    assert client.get("/api/v1/trainings", headers={**h, "If-None-Match": etag}).status_code == 200
    # the other county sees none of it
    assert client.get("/api/v1/trainings", headers=admin_bearer(tree.other_admin)).get_json()["total"] == 0


def test_training_rules_are_the_pages_rules(client, tree):
    h = admin_bearer(tree.admin)
    r = client.post("/api/v1/trainings", headers=h, json=training(tree.branch_a, ["outsider1"]))
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "unknown_users"
    r = client.post("/api/v1/trainings", headers=h, json=training(tree.branch_a, ["member_a"], hours=8))
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "days_or_hours"
    r = client.post("/api/v1/trainings", headers=h, json=training(tree.branch_a, ["member_a"], ends_on="2099-01-01"))
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_dates"
    r = client.post("/api/v1/trainings", headers=h, json=training(tree.elsewhere, ["member_a"]))
    assert r.status_code == 404
    r = client.post("/api/v1/trainings", headers=h, json=training(tree.branch_a, ["member_a"], category="magic"))
    assert r.status_code == 400
    assert ledger.total_hours(tree.member) == 0
    assert client.get("/api/v1/trainings", headers=h).get_json()["total"] == 0


def test_dashboard_figures(client, tree):
    h = admin_bearer(tree.admin)
    client.post("/api/v1/trainings", headers=h, json=training(tree.branch_a, ["member_a"]))
    r = client.get(f"/api/v1/analytics/orgs/{tree.county.id}", headers=h)
    assert r.status_code == 200
    figures = r.get_json()
    assert figures["status"] == "ready" and figures["org"]["id"] == tree.county.id
    assert figures["summary"]["hours"] == 40
    assert {c["name"] for c in figures["children"]} == {"第一支部", "第二支部"}
    assert client.get("/api/v1/analytics", headers=h).get_json()["org"]["id"] == tree.county.id
    assert client.get(f"/api/v1/analytics/orgs/{tree.county.id}", headers={**h, "If-None-Match": r.headers["ETag"]}) \
        .status_code == 304
    assert client.get(f"/api/v1/analytics/orgs/{tree.county.id}", headers=admin_bearer(tree.other_admin)) \
        .status_code == 404
    assert client.get("/api/v1/analytics", headers=bearer(tree.member)).status_code == 403
