"""What a lecturer writes is found once it is published, without anyone running ``elearn reindex``: the course,
its lessons and their subtitles, through the pages a lecturer and a publisher use and the search a member uses.
(The indexing jobs once existed without anything enqueuing them.)"""
import io

import pytest

from elearn.courses.models import Course, Lesson, Series
from elearn.extensions import db
from elearn.media.models import MediaAsset

SRT = "1\n00:00:03,000 --> 00:00:08,000\n推动乡村全面振兴，建设宜居宜业和美乡村。\n".encode()


@pytest.fixture
def people(make_org, make_user):
    rural = make_org("县委", sector="rural")
    city = make_org("市委", sector="community")
    return {"site": make_user("site", org=rural, role="site_admin"), "lect": make_user("lect", org=rural,
                                                                                       role="lecturer"),
            "member": make_user("member1", org=rural), "citizen": make_user("citizen", org=city)}


def _search(client, q, kind=None):
    r = client.get("/api/v1/search", query_string={"q": q, **({"kind": kind} if kind else {})})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _ready_video(lesson_id, lecturer_id):
    """A transcoded video for the lesson (the pipeline is tested on its own; here only its result matters)."""
    asset = MediaAsset(lesson_id=lesson_id, uploaded_by_id=lecturer_id, status="ready", progress=1.0,
                       duration_s=120.0, segment_seconds=6.0)
    db.session.add(asset)
    db.session.flush()
    db.session.get(Lesson, lesson_id).asset_id = asset.id
    db.session.commit()


def test_a_published_course_is_found_with_its_lessons_and_subtitles(client, auth, people):
    auth.login("lect")
    r = client.post("/studio/courses/new", data={"title": "乡村振兴战略专题课", "description": "讲解和美乡村建设",
                                                 "category": "political_theory", "innovative_theory": "y"})
    assert r.status_code == 302
    course = db.session.query(Course).one()
    r = client.post(f"/studio/courses/{course.id}/lessons", data={"lesson-title": "第一讲 宜居宜业"})
    assert r.status_code in (302, 303)
    lesson = db.session.query(Lesson).one()
    r = client.post(f"/studio/lessons/{lesson.id}/subtitles", data={
        "sub-lang": "zh-CN", "sub-file": (io.BytesIO(SRT), "lesson.srt")}, content_type="multipart/form-data")
    assert r.status_code == 302
    _ready_video(lesson.id, people["lect"].id)
    assert client.post(f"/studio/courses/{course.id}/submit").status_code == 302
    auth.logout()

    auth.login("member1")
    assert _search(client, "乡村振兴")["total"] == 0  # written, not yet published: nobody else sees it
    auth.logout()

    auth.login("site")
    assert client.post(f"/publish/review/{course.id}", data={"decision": "approve"}).status_code == 302
    r = client.post("/publish/series/new", data={"title": "农村党员专题", "sectors": ["rural"],
                                                  f"course_{course.id}": "y", f"pos_{course.id}": "1"})
    assert r.status_code == 302
    series = db.session.query(Series).one()
    assert client.post(f"/publish/series/{series.id}/publish", data={"publish": "1"}).status_code == 302
    auth.logout()

    auth.login("member1")
    found = _search(client, "乡村振兴")
    kinds = {hit["kind"] for hit in found["hits"]}
    assert {"course", "subtitle"} <= kinds, found
    assert any(h["kind"] == "course" and h["course_id"] == course.id for h in found["hits"])
    lesson_hits = _search(client, "宜居宜业", kind="lesson")["hits"]
    assert [h["lesson_id"] for h in lesson_hits] == [lesson.id]
    cue = _search(client, "和美乡村", kind="subtitle")["hits"][0]
    assert cue["lesson_id"] == lesson.id and cue["url"].endswith("?t=3")
    # The series filter follows the publishing too.
    assert _search(client, "乡村振兴", kind="course")["total"] == 1
    assert client.get("/api/v1/search", query_string={"q": "乡村振兴", "series": series.id}).get_json()["total"] >= 1
    auth.logout()

    auth.login("citizen")  # another sector: the series is not published to them
    assert _search(client, "乡村振兴")["total"] == 0
