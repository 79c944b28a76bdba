"""The OpenAPI document is generated from the payload models the routes validate with, so its bounds are the
bounds the API enforces (once the document allowed a rate above 0 while the code refused below 1/16)."""
import pytest

from elearn.study import services as study

SID = "dddddddd-0000-4000-8000-000000000004"


@pytest.fixture
def setup(make_org, make_user, make_course, make_lesson, publish):
    course = make_course(status="approved")
    publish([course], sectors=["rural"])
    lesson = make_lesson(course=course, duration=60)
    member = make_user("viewer", org=make_org(sector="rural"))
    study.record_segment_delivery(member, lesson.asset, "720p", 0, 0.0, 6.0, SID)
    return lesson


def _report(client, lesson, seq, rate):
    return client.post(f"/api/v1/lessons/{lesson.id}/progress", headers={"X-CSRFToken": client.csrf_token()},
                       json={"playback_session": SID, "seq": seq, "intervals": [], "position": 0, "rate": rate,
                             "visible": True})


def test_every_api_route_is_described(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    described = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = rule.rule.removeprefix("/api/v1").replace("<int:", "{").replace("<", "{").replace(">", "}")
            routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == described


def test_the_documented_rate_bounds_are_the_enforced_ones(client, auth, setup):
    spec = client.get("/api/v1/openapi.json").get_json()
    rate = spec["components"]["schemas"]["LessonReport"]["properties"]["rate"]
    low, high = rate["minimum"], rate["maximum"]
    assert low == 0.0625 and high == 16
    auth.login("viewer")
    assert _report(client, setup, 0, low * 0.99).status_code == 400
    assert _report(client, setup, 1, low).status_code == 200
    assert _report(client, setup, 2, high).status_code == 200
    refused = _report(client, setup, 3, high * 1.01)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "bad_report"
    assert "rate" in refused.get_json()["error"]["message"]
