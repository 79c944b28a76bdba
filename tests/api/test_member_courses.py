"""The member's courses in the API: catalog (filters, paging, ETag), series, a course with my progress, and a
lesson whose playback starts as the lesson page's does — each through a token and a cookie session, each
visible exactly when the page is."""
from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from elearn import clock
from elearn.auth import tokens
from elearn.study import services as study

SID = "aaaaaaaa-0000-4000-8000-00000000000b"


def bearer(user, scopes="read study"):
    return {"Authorization": "Bearer " + tokens.issue(user, "test", scopes=scopes)}


@pytest.fixture
def s(make_org, make_user, make_course, make_lesson, publish):
    rural = make_org(sector="rural")
    member = make_user("mem1", org=rural)
    outsider = make_user("out1", org=make_org(sector="community"))
    theory = make_course(title="习近平新时代中国特色社会主义思想概论", category="political_theory", theory=True)
    l1 = make_lesson(course=theory, title="第一讲", duration=2700, position=0)
    l2 = make_lesson(course=theory, title="第二讲", duration=1350, position=1)
    skills = make_course(title="党务工作实务", category="knowledge_skills", theory=False, declared_hours=3)
    make_lesson(course=skills, duration=600)
    history = make_course(title="革命传统教育专题", category="revolutionary_tradition", theory=False)
    draft = make_course(title="未审核课程", status="draft")
    required = publish([theory, skills], sectors=["rural"], required=True, title="必修专题",
                       due_on=date(2099, 1, 1))
    elective = publish([history, draft], sectors=["rural"], title="选修专题")
    hidden = make_course(title="城市社区课程")
    elsewhere = publish([hidden], sectors=["community"], title="社区专题")
    return {"member": member, "outsider": outsider, "theory": theory, "skills": skills, "history": history,
            "draft": draft, "hidden": hidden, "l1": l1, "l2": l2, "required": required, "elective": elective,
            "elsewhere": elsewhere}


def _titles(r):
    return [c["title"] for c in r.get_json()["items"]]


def test_catalog_lists_what_is_published_to_me_by_token_and_by_cookie(client, auth, s):
    by_token = client.get("/api/v1/catalog", headers=bearer(s["member"]))
    assert by_token.status_code == 200
    body = by_token.get_json()
    assert body["total"] == 3 and body["page"] == 1 and body["next"] is None
    assert set(_titles(by_token)) == {"习近平新时代中国特色社会主义思想概论", "党务工作实务", "革命传统教育专题"}
    theory = next(c for c in body["items"] if c["id"] == s["theory"].id)
    assert theory["hours"] == 1.5 and theory["lesson_count"] == 2 and theory["required"] is True
    assert theory["series_ids"] == [s["required"].id] and theory["category_label"] == "政治理论教育"
    assert theory["new"] is True and theory["url"] == f"/learn/courses/{s['theory'].id}"
    skills = next(c for c in body["items"] if c["id"] == s["skills"].id)
    assert skills["hours"] == 3
    auth.login("mem1")
    assert client.get("/api/v1/catalog").get_json() == body
    auth.logout()
    auth.login("out1")
    assert _titles(client.get("/api/v1/catalog")) == ["城市社区课程"]


def test_catalog_without_sign_in_is_401(client, s):
    r = client.get("/api/v1/catalog")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(("args", "expected"), [
    ("category=political_theory", {"theory"}),
    ("innovative_theory=false", {"skills", "history"}),
    ("innovative_theory=true", {"theory"}),
    ("required=true", {"theory", "skills"}),
    ("required=false", {"history"}),
    ("hours_min=1&hours_max=2", {"theory"}),
    ("hours_min=2", {"skills"}),
    ("series={elective}", {"history"}),
    ("series={elsewhere}", set()),
    ("new=false", set()),
    ("category=knowledge_skills&required=true", {"skills"}),
])
def test_catalog_filters(client, s, args, expected):
    query = args.format(elective=s["elective"].id, elsewhere=s["elsewhere"].id)
    r = client.get(f"/api/v1/catalog?{query}", headers=bearer(s["member"]))
    assert r.status_code == 200
    assert {c["id"] for c in r.get_json()["items"]} == {s[k].id for k in expected}


def test_catalog_new_is_the_first_days_after_the_series_opened(client, s, site_clock):
    site_clock.advance(31 * 24 * 3600)
    r = client.get("/api/v1/catalog?new=true", headers=bearer(s["member"]))
    assert r.get_json()["total"] == 0
    old = client.get("/api/v1/catalog?new=false", headers=bearer(s["member"])).get_json()
    opened = (clock.site_today() - timedelta(days=31)).isoformat()
    assert old["total"] == 3 and {c["available_since"] for c in old["items"]} == {opened}


@pytest.mark.parametrize("args", ["category=cooking", "hours_min=-1", "hours_min=3&hours_max=1", "series=0",
                                  "page=0", "per_page=100000", "new=maybe", "series=99999999999"])
def test_bad_filters_are_400_with_a_message(client, s, args):
    r = client.get(f"/api/v1/catalog?{args}", headers=bearer(s["member"]))
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] in ("bad_query", "bad_hours", "bad_category") and error["message"]


def test_catalog_pages_and_etag(client, s):
    headers = bearer(s["member"])
    first = client.get("/api/v1/catalog?per_page=2", headers=headers)
    body = first.get_json()
    assert len(body["items"]) == 2 and body["total"] == 3 and body["per_page"] == 2
    assert parse_qs(urlparse(body["next"]).query) == {"per_page": ["2"], "page": ["2"]}
    second = client.get(body["next"], headers=headers).get_json()
    assert len(second["items"]) == 1 and second["next"] is None
    assert {c["id"] for c in body["items"] + second["items"]} == {s["theory"].id, s["skills"].id, s["history"].id}
    etag = first.headers["ETag"]
    again = client.get("/api/v1/catalog?per_page=2", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert client.get("/api/v1/catalog?per_page=1", headers={**headers, "If-None-Match": etag}).status_code == 200


def test_catalog_etag_changes_when_a_course_is_published_to_me(client, s, make_course, publish):
    headers = bearer(s["member"])
    etag = client.get("/api/v1/catalog", headers=headers).headers["ETag"]
    publish([make_course(title="新课程")], sectors=["rural"])
    r = client.get("/api/v1/catalog", headers={**headers, "If-None-Match": etag})
    assert r.status_code == 200 and "新课程" in _titles(r)


def test_catalog_search_goes_through_the_search_service(client, s, app):
    from elearn.search import services as search
    search.rebuild()
    r = client.get("/api/v1/catalog?q=党务", headers=bearer(s["member"]))
    assert r.status_code == 200 and _titles(r) == ["党务工作实务"]
    # The search sees only what I may see: a course published elsewhere is not found.
    assert client.get("/api/v1/catalog?q=城市社区", headers=bearer(s["member"])).get_json()["total"] == 0
    blank = client.get("/api/v1/catalog?q=%20", headers=bearer(s["member"])).get_json()
    assert blank["total"] == 3  # a blank search box filters nothing


def test_series_list_and_detail(client, auth, s):
    headers = bearer(s["member"])
    listing = client.get("/api/v1/series", headers=headers)
    assert listing.status_code == 200 and "ETag" in listing.headers
    rows = listing.get_json()["items"]
    assert [r["title"] for r in rows] == ["必修专题", "选修专题"]  # due soon first, as on the home page
    assert rows[0]["required"] is True and rows[0]["course_count"] == 2 and rows[0]["due_on"] == "2099-01-01"
    assert rows[1]["course_count"] == 1  # the draft course is not listed
    detail = client.get(f"/api/v1/series/{s['required'].id}", headers=headers).get_json()
    assert [c["id"] for c in detail["courses"]] == [s["theory"].id, s["skills"].id]
    auth.login("out1")
    assert client.get(f"/api/v1/series/{s['required'].id}").status_code == 404
    assert client.get("/api/v1/series/99999").status_code == 404


def test_course_with_my_progress_and_404_like_the_page(client, auth, s):
    headers = bearer(s["member"])
    study.record_segment_delivery(s["member"], s["l1"].asset, "720p", 0, 0.0, 6.0, SID)
    r = client.get(f"/api/v1/courses/{s['theory'].id}", headers=headers)
    assert r.status_code == 200
    body = r.get_json()
    assert [le["title"] for le in body["lessons"]] == ["第一讲", "第二讲"]
    assert body["lessons"][0]["duration_seconds"] == 2700 and body["lessons"][0]["playable"] is True
    assert body["lessons"][0]["completed"] is False and body["innovative_theory"] is True
    for course in ("hidden", "draft"):
        assert client.get(f"/learn/courses/{s[course].id}", headers=headers).status_code in (302, 401)
        assert client.get(f"/api/v1/courses/{s[course].id}", headers=headers).status_code == 404
    auth.login("mem1")
    assert client.get(f"/learn/courses/{s['draft'].id}").status_code == 404
    assert client.get(f"/api/v1/courses/{s['draft'].id}").status_code == 404
    assert client.get(f"/api/v1/courses/{s['theory'].id}").get_json() == body


def test_lesson_starts_playback_as_the_page_does_and_reports_count(client, auth, s):
    """The player data of the API is the page's: a fresh playback session in the playlist URL, and a report
    with that session is credited only on the evidence of keys sent to it, like the page's player."""
    headers = bearer(s["member"])
    r = client.get(f"/api/v1/lessons/{s['l1'].id}", headers=headers)
    assert r.status_code == 200
    body = r.get_json()
    player = body["player"]
    ps = player["playback_session"]
    assert player["src"] == f"/learn/media/{s['l1'].asset_id}/master.m3u8?ps={ps}"
    assert player["progress_url"] == f"/api/v1/lessons/{s['l1'].id}/progress"
    assert player["resume"] == 0 and player["duration"] == 2700 and 2.0 in player["rates"]
    assert body["next_id"] == s["l2"].id and body["previous_id"] is None
    assert body["progress"]["watched_seconds"] == 0
    second = client.get(f"/api/v1/lessons/{s['l1'].id}", headers=headers).get_json()["player"]
    assert second["playback_session"] != ps  # a new playback each time, as each page load
    # No evidence for this playback yet: the report is accepted but credits nothing.
    report = {"playback_session": ps, "seq": 0, "intervals": [[0, 6]], "position": 6, "rate": 1.0,
              "visible": True}
    refused = client.post(player["progress_url"], json=report, headers=headers).get_json()
    assert refused["credited_seconds"] == 0
    auth.login("mem1")
    page = client.get(f"/learn/lessons/{s['l1'].id}").get_data(as_text=True)
    assert f"/learn/media/{s['l1'].asset_id}/master.m3u8?ps=" in page
    by_cookie = client.get(f"/api/v1/lessons/{s['l1'].id}").get_json()
    assert by_cookie["player"]["src"].startswith(f"/learn/media/{s['l1'].asset_id}/master.m3u8?ps=")
    auth.logout()
    auth.login("out1")
    assert client.get(f"/api/v1/lessons/{s['l1'].id}").status_code == 404
    assert client.get(f"/learn/lessons/{s['l1'].id}").status_code == 404


def test_lesson_start_at_is_clipped_and_bad_input_is_400(client, s):
    headers = bearer(s["member"])
    r = client.get(f"/api/v1/lessons/{s['l2'].id}?t=99999", headers=headers)
    assert r.get_json()["player"]["start_at"] == 1350
    assert client.get(f"/api/v1/lessons/{s['l2'].id}?t=abc", headers=headers).status_code == 400
    assert client.get(f"/api/v1/lessons/{s['l2'].id}?t=-1", headers=headers).status_code == 400


def test_lesson_of_a_course_not_published_to_me_is_404(client, s, make_lesson):
    other = make_lesson(course=s["hidden"], duration=60)
    r = client.get(f"/api/v1/lessons/{other.id}", headers=bearer(s["member"]))
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_lesson_without_ready_video_has_no_player(client, s, make_lesson):
    silent = make_lesson(course=s["theory"], title="待上传", position=5)
    body = client.get(f"/api/v1/lessons/{silent.id}", headers=bearer(s["member"])).get_json()
    assert body["player"] is None and body["progress"] is None and body["previous_id"] == s["l2"].id


def test_study_only_token_cannot_read_the_catalog(client, s):
    r = client.get("/api/v1/catalog", headers=bearer(s["member"], scopes="study"))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "insufficient_scope"


def test_a_series_not_yet_open_is_not_in_the_catalog(client, s, make_course, publish):
    later = make_course(title="下月课程")
    publish([later], sectors=["rural"], opens_on=clock.site_today() + timedelta(days=3))
    headers = bearer(s["member"])
    assert "下月课程" not in _titles(client.get("/api/v1/catalog", headers=headers))
    assert client.get(f"/api/v1/courses/{later.id}", headers=headers).status_code == 404


def test_catalog_queries_do_not_grow_with_the_courses(client, s, make_course, make_lesson, publish,
                                                      count_queries):
    headers = bearer(s["member"])
    client.get("/api/v1/catalog", headers=headers)  # warm: token look-up paths, caches
    with count_queries() as few:
        assert client.get("/api/v1/catalog", headers=headers).get_json()["total"] == 3
    more = [make_course(title=f"加课{i}") for i in range(12)]
    for c in more:
        make_lesson(course=c, duration=300)
    publish(more, sectors=["rural"])
    with count_queries() as many:
        assert client.get("/api/v1/catalog", headers=headers).get_json()["total"] == 15
    assert many[0] <= few[0] + 1  # a constant number of statements, not one more per course
