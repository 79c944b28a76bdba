import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from elearn import clock
from elearn.readings import services as readings
from elearn.readings.models import Reading

PLAN = (Path(__file__).resolve().parent.parent / "data" / "plan-excerpt.txt").read_bytes()


@pytest.fixture
def people(make_org, make_user):
    rural = make_org(sector="rural")
    city = make_org(sector="community")
    return {
        "admin": make_user("admin1", role="site_admin", org=rural),
        "lecturer": make_user("lect1", role="lecturer", org=rural),
        "member": make_user("member1", org=rural),
        "outsider": make_user("outsider1", org=city),
    }


@pytest.fixture
def published_reading(db, people, make_course, publish):
    course = make_course(lecturer=people["lecturer"])
    reading = readings.upload(people["admin"], PLAN, "plan.txt", course=course)
    publish([course], sectors=["rural"])
    return reading


def _count(db):
    return db.session.execute(select(func.count()).select_from(Reading)).scalar_one()


def test_lecturer_uploads_and_is_sent_to_the_reading(client, auth, db, people, make_course):
    course = make_course(lecturer=people["lecturer"], status="draft")
    auth.login("lect1")
    page = client.get("/readings/upload")
    assert page.status_code == 200 and 'id="reading-upload"' in page.get_data(as_text=True)
    response = client.post("/readings/upload", data={
        "file": (io.BytesIO(PLAN), "plan.txt"), "title": "", "source_kind": "document", "course_id": course.id},
        content_type="multipart/form-data")
    assert response.status_code == 302
    reading = db.session.execute(select(Reading)).scalar_one()
    assert response.headers["Location"].endswith(f"/readings/{reading.id}/manage")
    assert [c.id for c in readings.courses_of(reading)] == [course.id]


def test_upload_by_script_answers_json(client, auth, db, people):
    auth.login("lect1")
    headers = {"X-Requested-With": "XMLHttpRequest"}
    ok = client.post("/readings/upload", data={"file": (io.BytesIO(PLAN), "plan.txt"), "source_kind": "book",
                                               "course_id": 0}, content_type="multipart/form-data", headers=headers)
    assert ok.status_code == 200 and ok.get_json()["redirect"].endswith("/manage")
    bad = client.post("/readings/upload", data={"file": (io.BytesIO(b"\x00\xff" * 300), "x.txt"),
                                                "source_kind": "book", "course_id": 0},
                      content_type="multipart/form-data", headers=headers)
    assert bad.status_code == 400 and "无法读取该文件" in bad.get_json()["error"]["message"]
    assert _count(db) == 1


def test_bad_file_shows_a_clear_message_and_stores_nothing(client, auth, app, db, people):
    auth.login("admin1")
    response = client.post("/readings/upload", data={
        "file": (io.BytesIO(b"MZ\x00\x00"), "tool.exe"), "source_kind": "document", "course_id": 0},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert "不支持该文件类型" in response.get_data(as_text=True)
    missing = client.post("/readings/upload", data={"source_kind": "document", "course_id": 0},
                          content_type="multipart/form-data")
    assert missing.status_code == 400 and "请选择要上传的文件" in missing.get_data(as_text=True)
    assert _count(db) == 0
    assert not (Path(app.config["ELEARN_DATA_DIR"]) / "readings").exists() or \
        not any((Path(app.config["ELEARN_DATA_DIR"]) / "readings").rglob("*.*"))


def test_members_cannot_upload(client, auth, people):
    auth.login("member1")
    assert client.get("/readings/upload").status_code == 403
    assert client.post("/readings/upload", data={"file": (io.BytesIO(PLAN), "plan.txt"), "source_kind": "document"},
                       content_type="multipart/form-data").status_code == 403


def test_reader_has_toc_anchors_and_cjk_typography(client, auth, people, published_reading):
    auth.login("member1")
    html = client.get(f"/readings/{published_reading.id}").get_data(as_text=True)
    assert 'class="reader-toc' in html and 'href="#s-1"' in html and "一、总体要求" in html
    assert 'id="p-1"' in html and 'id="p-12"' in html
    assert 'lang="zh-CN"' in html and "js/reader.js" in html
    listing = client.get("/readings/").get_data(as_text=True)
    assert f"/readings/{published_reading.id}" in listing


def test_reader_marks_the_searched_words(client, auth, people, published_reading):
    auth.login("member1")
    html = client.get(f"/readings/{published_reading.id}?q=%22三会一课%22").get_data(as_text=True)
    marked = re.search(r'<p id="(p-\d+)">([^\n]*<mark>三会一课</mark>[^\n]*)</p>', html)
    assert marked, "the paragraph with the phrase is marked"
    assert html.count("<mark>") >= 1 and 'data-first-mark="' + marked.group(1) + '"' in html
    # Markup in the query is escaped, never injected; a bad query just marks nothing.
    evil = client.get(f"/readings/{published_reading.id}?q=<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in evil
    assert client.get(f"/readings/{published_reading.id}?q=AND%20%22").status_code == 200


def test_reader_is_404_outside_the_audience(client, auth, people, published_reading, make_course):
    auth.login("outsider1")
    assert client.get(f"/readings/{published_reading.id}").status_code == 404
    assert client.post(f"/readings/{published_reading.id}/position", json={"paragraph": "p-2"},
                       headers={"X-CSRFToken": client.csrf_token()}).status_code == 404
    assert client.get("/readings/99999").status_code == 404
    assert f"/readings/{published_reading.id}" not in client.get("/readings/").get_data(as_text=True)


def test_position_is_saved_and_offered_on_return(client, auth, people, published_reading):
    auth.login("member1")
    url = f"/readings/{published_reading.id}"
    assert "继续阅读" not in client.get(url).get_data(as_text=True)
    no_token = client.post(url + "/position", json={"paragraph": "p-9"})
    assert no_token.status_code == 400
    saved = client.post(url + "/position", json={"paragraph": "p-9"}, headers={"X-CSRFToken": client.csrf_token()})
    assert saved.status_code == 200 and saved.get_json() == {"paragraph": "p-9"}
    bad = client.post(url + "/position", json={"paragraph": "p-99999"}, headers={"X-CSRFToken": client.csrf_token()})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_paragraph"
    html = client.get(url).get_data(as_text=True)
    assert "继续阅读" in html and 'href="#p-9"' in html


def test_manage_attach_and_detach(client, auth, db, people, make_course):
    draft = make_course(lecturer=people["lecturer"], status="draft", title="我的草稿课程")
    reading = readings.upload(people["lecturer"], PLAN, "plan.txt")
    auth.login("lect1")
    page = client.get(f"/readings/{reading.id}/manage").get_data(as_text=True)
    assert "我的草稿课程" in page
    assert client.post(f"/readings/{reading.id}/manage", data={"course_id": draft.id}).status_code == 302
    assert [c.id for c in readings.courses_of(reading)] == [draft.id]
    assert client.get(f"/readings/courses/{draft.id}").status_code == 200
    assert client.post(f"/readings/{reading.id}/detach/{draft.id}").status_code == 302
    assert readings.courses_of(reading) == []


def test_lecturer_cannot_attach_to_someone_elses_course(client, auth, db, people, make_course, make_user):
    theirs = make_course(status="draft")
    reading = readings.upload(people["lecturer"], PLAN, "plan.txt")
    auth.login("lect1")
    response = client.post(f"/readings/{reading.id}/manage", data={"course_id": theirs.id})
    assert response.status_code in (400, 404)
    assert readings.courses_of(reading) == []


def test_delete_by_uploader_only(client, auth, db, people, published_reading, make_user):
    make_user("lect2", role="lecturer", org=people["member"].organisation)
    auth.login("lect2")
    assert client.post(f"/readings/{published_reading.id}/delete").status_code == 403
    auth.logout()
    auth.login("admin1")
    assert client.post(f"/readings/{published_reading.id}/delete").status_code == 302
    assert _count(db) == 0


# ---------------------------------------------------------------- reading time (integration)

def _report(client, reading, seq, active, *, session="a1b2c3d4-reader-view", position=0.5, visible=True):
    return client.post(f"/api/v1/readings/{reading.id}/progress", headers={"X-CSRFToken": client.csrf_token()},
                       json={"playback_session": session, "seq": seq, "active_seconds": active,
                             "position": position, "visible": visible})


@pytest.fixture
def advance_clock(monkeypatch):
    """The site's clock, moved by hand."""
    now = {"t": clock.now_utc()}
    monkeypatch.setattr(clock, "now_utc", lambda: now["t"])

    def advance(seconds):
        from datetime import timedelta
        now["t"] += timedelta(seconds=seconds)
    return advance


def test_reader_carries_what_the_reporting_script_needs(client, auth, people, published_reading):
    from elearn import policy
    auth.login("member1")
    html = client.get(f"/readings/{published_reading.id}").get_data(as_text=True)
    assert f'data-progress-url="/api/v1/readings/{published_reading.id}/progress"' in html
    assert f'data-idle-seconds="{policy.READER_IDLE_S}"' in html
    assert f'data-report-seconds="{policy.READER_REPORT_INTERVAL_S}"' in html
    assert 'name="csrf-token"' in html and "js/reader.js" in html
    minutes = int(published_reading.estimated_minutes)
    assert minutes >= 1
    assert re.search(r'已阅读 <span data-role="read-minutes">0</span> 分钟 / 预计 \d+ 分钟，达到后计 [\d.]+ 学时', html)
    assert 'data-role="credit-done" hidden' in html
    assert "<script>" not in html.split("</head>")[1]  # no inline script (CSP)


def test_reader_without_a_visible_course_reports_nothing(client, auth, db, people):
    reading = readings.upload(people["lecturer"], PLAN, "plan.txt")  # attached to no course
    auth.login("lect1")
    html = client.get(f"/readings/{reading.id}").get_data(as_text=True)
    assert "data-progress-url" not in html and "已阅读" not in html
    assert _report(client, reading, 0, 0).status_code == 404


def test_reader_reports_are_counted_honestly_and_credit_the_reading(client, auth, db, people, published_reading,
                                                                     advance_clock):
    from elearn.ledger import services as ledger
    from elearn.study import services as study
    member = people["member"]
    required = study.reading_progress(member, published_reading).required_seconds
    auth.login("member1")
    # The reader's first report (nothing read yet) registers the page view and starts the server's clock.
    first = _report(client, published_reading, 0, 0)
    assert first.status_code == 200 and first.json["accepted"] and first.json["active_seconds"] == 0
    advance_clock(15)
    assert _report(client, published_reading, 1, 15).json["credited_seconds"] == 15
    # The same seq again (a retry whose answer was lost) counts nothing.
    again = _report(client, published_reading, 1, 15)
    assert again.json["accepted"] is False and again.json["active_seconds"] == 15
    advance_clock(15)
    # Hidden time is never counted; claiming more than the wall clock allows is cut to it (plus the allowance).
    assert _report(client, published_reading, 2, 15, visible=False).json["credited_seconds"] == 0
    advance_clock(15)
    greedy = _report(client, published_reading, 3, 600).json
    assert greedy["reason"] == "budget" and greedy["credited_seconds"] <= 15 + 15 + 5
    assert not greedy["completed"] and ledger.rows(member) == []
    # Reading on until the estimate is reached credits the reading once.
    seq = 4
    while not study.reading_progress(member, published_reading).completed:
        advance_clock(15)
        body = _report(client, published_reading, seq, 15).json
        assert body["accepted"]
        seq += 1
        assert seq < 200
    state = study.reading_progress(member, published_reading)
    assert state.active_seconds == pytest.approx(required)
    entries = ledger.rows(member)
    assert [(e.kind, e.title) for e in entries] == [("reading", published_reading.title)]
    advance_clock(15)
    assert _report(client, published_reading, seq, 15).json["credited_seconds"] == 0
    assert len(ledger.rows(member)) == 1
    html = client.get(f"/readings/{published_reading.id}").get_data(as_text=True)
    assert "已计入学时" in html and 'data-role="credit-done" hidden' not in html
    assert 'data-completed="true"' in html


def test_reading_reports_are_refused_outside_the_audience_and_when_malformed(client, auth, people,
                                                                              published_reading):
    auth.login("outsider1")
    assert _report(client, published_reading, 0, 5).status_code == 404
    auth.logout()
    auth.login("member1")
    bad = client.post(f"/api/v1/readings/{published_reading.id}/progress",
                      headers={"X-CSRFToken": client.csrf_token()},
                      json={"playback_session": "a1b2c3d4-reader-view", "seq": 0, "active_seconds": -1,
                            "position": 0.5, "visible": True})
    assert bad.status_code == 400
    assert _report(client, published_reading, 0, 5, position=2).status_code == 400
