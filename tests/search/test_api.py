from pathlib import Path

import pytest

from elearn.auth import tokens
from elearn.readings import services as readings

PLAN = (Path(__file__).resolve().parent.parent / "data" / "plan-excerpt.txt").read_bytes()


@pytest.fixture
def setup(db, make_org, make_user, make_course, publish):
    rural = make_org(sector="rural")
    city = make_org(sector="community")
    admin = make_user("admin1", role="site_admin", org=rural)
    member = make_user("member1", org=rural)
    outsider = make_user("outsider1", org=city)
    course = make_course(title="乡村振兴课程")
    reading = readings.upload(admin, PLAN, "plan.txt", course=course)
    publish([course], sectors=["rural"])
    return {"reading": reading, "member": member, "outsider": outsider}


def _bearer(user):
    return {"Authorization": "Bearer " + tokens.issue(user, "test")}


def test_search_returns_hits_with_paragraph_links(client, setup):
    response = client.get("/api/v1/search?q=%22三会一课%22", headers=_bearer(setup["member"]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 1 and body["page"] == 1 and body["pagecount"] == 1
    hit = body["hits"][0]
    assert hit["kind"] == "reading" and hit["reading_id"] == setup["reading"].id
    assert "<mark>三会一课</mark>" in hit["snippet_html"]
    assert hit["url"].endswith("#" + hit["anchor"]) and hit["anchor"].startswith("p-")


def test_outsider_gets_no_hits(client, setup):
    body = client.get("/api/v1/search?q=%22三会一课%22", headers=_bearer(setup["outsider"])).get_json()
    assert body["total"] == 0 and body["hits"] == []


def test_session_auth_works_too(client, auth, setup):
    auth.login("member1")
    assert client.get("/api/v1/search?q=党员").get_json()["total"] >= 1


@pytest.mark.parametrize("query", ["", "?q=", "?q=AND%20%22", "?q=党员&kind=video", "?q=党员&page=x",
                                   "?q=党员&page=0", "?q=党员&series=abc", "?q=" + "x" * 201])
def test_bad_queries_are_json_400(client, setup, query):
    response = client.get("/api/v1/search" + query, headers=_bearer(setup["member"]))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_query" and error["message"]


def test_requires_authentication(client, setup):
    response = client.get("/api/v1/search?q=党员")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_openapi_describes_search(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/search"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"q", "kind", "series", "sector", "page"}
    assert "SearchResults" in spec["components"]["schemas"] and "SearchHit" in spec["components"]["schemas"]
