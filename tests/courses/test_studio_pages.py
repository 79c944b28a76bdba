import pytest
from sqlalchemy import select

from elearn import clock
from elearn.courses.models import Course, Lesson
from elearn.extensions import db
from elearn.media import tasks as media_tasks
from elearn.media.models import MediaAsset


@pytest.fixture
def setup(make_user, make_course, make_lesson):
    lecturer = make_user("lect", role="lecturer")
    other = make_user("other", role="lecturer")
    member = make_user("member1")
    course = make_course(title="我的课程", lecturer=lecturer, status="draft")
    lesson = make_lesson(course=course, title="第一讲")
    foreign = make_course(title="别人的课程", lecturer=other, status="draft")
    foreign_lesson = make_lesson(course=foreign)
    return {"lecturer": lecturer, "course": course, "lesson": lesson, "foreign": foreign,
            "foreign_lesson": foreign_lesson, "member": member}


@pytest.fixture
def queued(enqueued):
    return enqueued


def test_studio_is_for_lecturers(client, auth, setup):
    assert client.get("/studio/").status_code == 302  # to the login page
    auth.login("member1")
    assert client.get("/studio/").status_code == 403
    assert client.get(f"/studio/courses/{setup['course'].id}").status_code == 403
    r = client.post(f"/studio/lessons/{setup['lesson'].id}/uploads", json={"filename": "a.mp4", "size": 3},
                    headers={"X-CSRFToken": client.csrf_token()})
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert "课程工作室" not in client.get("/").get_data(as_text=True)


def test_lecturer_lists_creates_and_edits_courses(client, auth, setup):
    auth.login("lect")
    page = client.get("/studio/").get_data(as_text=True)
    assert "我的课程" in page and "别人的课程" not in page and "课程工作室" in page
    r = client.post("/studio/courses/new", data={"title": "新课", "description": "**要点**",
                                                 "category": "party_rules", "innovative_theory": "y"})
    assert r.status_code == 302
    course = db.session.execute(select(Course).where(Course.title == "新课")).scalar_one()
    assert course.lecturer_id == setup["lecturer"].id and course.status == "draft" and course.innovative_theory
    r = client.post(f"/studio/courses/{course.id}", data={
        "course-title": "新课（修订）", "course-description": "", "course-category": "party_purpose"})
    assert r.status_code == 302
    db.session.refresh(course)
    assert course.title == "新课（修订）" and course.category == "party_purpose"


def test_bad_course_form_changes_nothing(client, auth, setup):
    auth.login("lect")
    r = client.post("/studio/courses/new", data={"title": "", "category": "party_rules"})
    assert r.status_code == 400 and "请填写课程名称" in r.get_data(as_text=True)
    r = client.post(f"/studio/courses/{setup['course'].id}", data={
        "course-title": "x", "course-category": "bogus"})
    assert r.status_code == 400
    db.session.refresh(setup["course"])
    assert setup["course"].title == "我的课程"


def test_other_lecturers_course_is_not_found(client, auth, setup):
    auth.login("lect")
    foreign, foreign_lesson = setup["foreign"], setup["foreign_lesson"]
    assert client.get(f"/studio/courses/{foreign.id}").status_code == 404
    assert client.get(f"/studio/lessons/{foreign_lesson.id}").status_code == 404
    assert client.post(f"/studio/courses/{foreign.id}/lessons", data={"lesson-title": "x"}).status_code == 404
    assert client.post(f"/studio/lessons/{foreign_lesson.id}/move", data={"direction": "up"}).status_code == 404
    r = client.post(f"/studio/lessons/{foreign_lesson.id}/uploads", json={"filename": "a.mp4", "size": 3},
                    headers={"X-CSRFToken": client.csrf_token()})
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    asset = MediaAsset(lesson_id=foreign_lesson.id, uploaded_by_id=foreign.lecturer_id, status="queued")
    db.session.add(asset)
    db.session.commit()
    assert client.get(f"/studio/assets/{asset.id}/status").status_code == 404


def test_add_and_reorder_lessons(client, auth, setup):
    auth.login("lect")
    course = setup["course"]
    r = client.post(f"/studio/courses/{course.id}/lessons", data={"lesson-title": "第二讲"})
    assert r.status_code == 302
    second = db.session.execute(select(Lesson).where(Lesson.title == "第二讲")).scalar_one()
    client.post(f"/studio/lessons/{second.id}/move", data={"direction": "up"})
    db.session.refresh(course)
    assert [les.title for les in course.lessons] == ["第二讲", "第一讲"]
    page = client.get(f"/studio/courses/{course.id}").get_data(as_text=True)
    assert page.index("第二讲") < page.index("第一讲")


def test_resumable_upload_over_http(client, auth, setup, queued):
    auth.login("lect")
    token = client.csrf_token()
    data = b"0123456789" * 100
    r = client.post(f"/studio/lessons/{setup['lesson'].id}/uploads",
                    json={"filename": "讲课.mp4", "size": len(data)}, headers={"X-CSRFToken": token})
    assert r.status_code == 201 and r.json["offset"] == 0 and r.json["chunk_size"] > 0
    url, status_url = r.json["url"], r.json["status_url"]

    r = client.put(f"{url}?offset=0", data=data[:300], headers={"X-CSRFToken": token})
    assert r.status_code == 200 and r.json["offset"] == 300
    # A repeated or skipped chunk: 409 with the offset to continue from.
    r = client.put(f"{url}?offset=0", data=data[:300], headers={"X-CSRFToken": token})
    assert r.status_code == 409 and r.json["offset"] == 300 and r.headers["Upload-Offset"] == "300"
    # After a reload the client asks where to continue.
    assert client.get(url).json["offset"] == 300
    assert client.head(url).headers["Upload-Offset"] == "300"
    r = client.put(url, data=data[300:700], headers={"X-CSRFToken": token,
                                                     "Content-Range": f"bytes 300-699/{len(data)}"})
    assert r.status_code == 200 and r.json["offset"] == 700
    r = client.post(f"{url}?offset=700", data=data[700:], csrf=False, headers={"X-CSRFToken": token,
                                                                     "Content-Type": "application/octet-stream"})
    assert r.status_code == 200 and r.json["status"] == "complete"
    assert queued and queued[0][0] is media_tasks.transcode_asset
    status = client.get(status_url).json
    assert status["status"] == "queued" and status["progress"] == 0 and status["label"] == "排队中"


def test_upload_endpoints_need_the_csrf_header(client, auth, setup, queued):
    auth.login("lect")
    r = client.post(f"/studio/lessons/{setup['lesson'].id}/uploads", json={"filename": "a.mp4", "size": 3})
    assert r.status_code == 400
    r = client.post(f"/studio/lessons/{setup['lesson'].id}/uploads", json={"filename": "a.mp4", "size": 3},
                    headers={"X-CSRFToken": client.csrf_token()})
    r = client.put(f"{r.json['url']}?offset=0", data=b"abc")
    assert r.status_code == 400
    assert queued == []


def test_upload_refusals_are_json(app, client, auth, setup, queued):
    auth.login("lect")
    token = client.csrf_token()
    app.config["ELEARN_MAX_UPLOAD_MB"] = 1
    r = client.post(f"/studio/lessons/{setup['lesson'].id}/uploads",
                    json={"filename": "big.mp4", "size": 2 * 1024 * 1024}, headers={"X-CSRFToken": token})
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large"
    r = client.post(f"/studio/lessons/{setup['lesson'].id}/uploads",
                    json={"filename": "a.mp4", "size": 3, "sha256": "f" * 64}, headers={"X-CSRFToken": token})
    url = r.json["url"]
    assert client.put(url, data=b"abc", headers={"X-CSRFToken": token}).status_code == 400  # no offset
    r = client.put(f"{url}?offset=0", data=b"abc", headers={"X-CSRFToken": token})
    assert r.status_code == 422 and "SHA-256" in r.json["error"]["message"]
    assert queued == []


def test_status_shows_transcode_progress_and_failure(client, auth, setup):
    auth.login("lect")
    asset = MediaAsset(lesson_id=setup["lesson"].id, uploaded_by_id=setup["lecturer"].id, status="transcoding",
                       progress=0.42)
    db.session.add(asset)
    db.session.commit()
    asset.heartbeat_at = clock.now_utc()
    db.session.commit()
    r = client.get(f"/studio/assets/{asset.id}/status")
    assert r.json["status"] == "transcoding" and r.json["progress"] == 42
    assert r.headers["Cache-Control"] == "no-store"
    asset.status, asset.error = "failed", "无法使用该文件：不是视频"
    db.session.commit()
    r = client.get(f"/studio/assets/{asset.id}/status")
    assert r.json["status"] == "failed" and r.json["error"] == "无法使用该文件：不是视频"
    page = client.get(f"/studio/lessons/{setup['lesson'].id}").get_data(as_text=True)
    assert "无法使用该文件" in page and "upload.js" in page


def test_subtitle_upload_form(client, auth, setup):
    import io
    auth.login("lect")
    lesson = setup["lesson"]
    r = client.post(f"/studio/lessons/{lesson.id}/subtitles", data={
        "sub-lang": "zh-CN", "sub-file": (io.BytesIO("1\n00:00:01,000 --> 00:00:02,000\n你好\n".encode()), "a.srt")},
        content_type="multipart/form-data")
    assert r.status_code == 302
    db.session.refresh(lesson)
    assert [s.lang for s in lesson.subtitles] == ["zh-CN"]
    r = client.post(f"/studio/lessons/{lesson.id}/subtitles", data={
        "sub-lang": "en", "sub-file": (io.BytesIO(b"not subtitles"), "a.srt")}, content_type="multipart/form-data")
    assert r.status_code == 400 and "字幕文件无法使用" in r.get_data(as_text=True)
    db.session.refresh(lesson)
    assert [s.lang for s in lesson.subtitles] == ["zh-CN"]


def test_submit_for_review_from_the_studio(client, auth, setup):
    auth.login("lect")
    course = setup["course"]
    r = client.post(f"/studio/courses/{course.id}/submit", follow_redirects=True)
    assert "还没有可播放的视频" in r.get_data(as_text=True)
    db.session.refresh(course)
    assert course.status == "draft"
