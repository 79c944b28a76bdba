"""Readings through the API: the list I may open (paged, ETag), a reading's sections and paragraphs with my
position and reading-time state, 404 where the reader page is 404."""
from pathlib import Path

import pytest

from elearn.auth import tokens
from elearn.readings import services as readings

PLAN = (Path(__file__).resolve().parent.parent / "data" / "plan-excerpt.txt").read_bytes()


@pytest.fixture
def s(make_org, make_user, make_course, publish):
    rural = make_org(sector="rural")
    admin = make_user("radmin", role="site_admin", org=rural)
    lecturer = make_user("rlect", role="lecturer", org=rural)
    member = make_user("reader1", org=rural)
    outsider = make_user("reader2", org=make_org(sector="community"))
    course = make_course(lecturer=lecturer)
    plan = readings.upload(admin, PLAN, "plan.txt", title="教育培训规划", course=course)
    second = readings.upload(admin, PLAN, "plan2.txt", title="第二份材料", course=course)
    unattached = readings.upload(admin, PLAN, "plan3.txt", title="未关联材料")
    publish([course], sectors=["rural"])
    return {"member": member, "outsider": outsider, "plan": plan, "second": second, "unattached": unattached,
            "lecturer": lecturer}


def bearer(user, scopes="read study"):
    return {"Authorization": "Bearer " + tokens.issue(user, "test", scopes=scopes)}


def test_list_by_token_and_cookie_pages_and_etag(client, auth, s):
    headers = bearer(s["member"])
    r = client.get("/api/v1/readings?per_page=1", headers=headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["total"] == 2 and len(body["items"]) == 1 and body["next"]
    assert body["items"][0]["title"] == "第二份材料"  # newest first, as the readings page
    assert body["items"][0]["url"] == f"/readings/{s['second'].id}" and body["items"][0]["minutes"] >= 1
    rest = client.get(body["next"], headers=headers).get_json()
    assert [i["title"] for i in rest["items"]] == ["教育培训规划"] and rest["next"] is None
    etag = r.headers["ETag"]
    assert client.get("/api/v1/readings?per_page=1", headers={**headers, "If-None-Match": etag}).status_code == 304
    auth.login("reader1")
    assert client.get("/api/v1/readings?per_page=1").get_json() == body
    auth.logout()
    auth.login("reader2")
    assert client.get("/api/v1/readings").get_json()["total"] == 0


def test_reading_text_with_position_and_credit(client, auth, s):
    headers = bearer(s["member"])
    reading = s["plan"]
    r = client.get(f"/api/v1/readings/{reading.id}", headers=headers)
    assert r.status_code == 200
    body = r.get_json()
    parsed = readings.load(reading)
    assert [p["id"] for sec in body["sections"] for p in sec["paragraphs"]] == [p.id for p in parsed.paragraphs]
    assert body["sections"][0]["paragraphs"][0]["text"] == parsed.paragraphs[0].text
    assert body["last_position"] is None
    assert body["credit"]["progress_url"] == f"/api/v1/readings/{reading.id}/progress"
    assert body["credit"]["completed"] is False
    # The reader page saves my position: the ETag changes and the API shows it.
    etag = r.headers["ETag"]
    assert client.get(f"/api/v1/readings/{reading.id}", headers={**headers, "If-None-Match": etag}).status_code == 304
    auth.login("reader1")
    saved = client.post(f"/readings/{reading.id}/position", json={"paragraph": "p-3"},
                        headers={"X-CSRFToken": client.csrf_token()})
    assert saved.status_code == 200
    changed = client.get(f"/api/v1/readings/{reading.id}", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["last_position"] == "p-3"
    assert client.get(f"/api/v1/readings/{reading.id}").get_json()["last_position"] == "p-3"


def test_reading_out_of_reach_is_404_like_the_reader(client, auth, s):
    for key in ("unattached",):
        assert client.get(f"/api/v1/readings/{s[key].id}", headers=bearer(s["member"])).status_code == 404
    stranger = bearer(s["outsider"])
    r = client.get(f"/api/v1/readings/{s['plan'].id}", headers=stranger)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/readings/99999", headers=stranger).status_code == 404
    auth.login("reader2")
    assert client.get(f"/readings/{s['plan'].id}").status_code == 404


def test_uploader_reads_an_unattached_reading_without_credit(client, make_user, s):
    from elearn.extensions import db
    from elearn.orgs.models import User
    admin = db.session.execute(db.select(User).filter_by(username="radmin")).scalar_one()
    body = client.get(f"/api/v1/readings/{s['unattached'].id}", headers=bearer(admin)).get_json()
    assert body["credit"] is None and body["title"] == "未关联材料"


@pytest.mark.parametrize("args", ["page=0", "per_page=0", "per_page=abc", "page=99999999"])
def test_bad_paging_is_400(client, s, args):
    r = client.get(f"/api/v1/readings?{args}", headers=bearer(s["member"]))
    assert r.status_code == 400 and r.get_json()["error"]["message"]
