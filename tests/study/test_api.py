"""The progress API: access, validation, resume, credits summary, concurrency."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, update

from elearn import clock
from elearn.auth import tokens
from elearn.extensions import db
from elearn.ledger import services as ledger
from elearn.ledger.models import StudyCredit
from elearn.study import services as study
from elearn.study.models import SegmentDelivery, WatchProgress

SID = "12345678-aaaa-4bbb-8ccc-123456789abc"


@pytest.fixture
def s(make_org, make_user, make_course, make_lesson, publish):
    org = make_org(sector="rural")
    member = make_user(org=org)
    outsider = make_user(org=make_org(sector="community"))
    course = make_course()
    lesson = make_lesson(course=course, duration=60)
    publish([course], sectors=["rural"])
    return {"member": member, "outsider": outsider, "course": course, "lesson": lesson}


def body(seq=0, intervals=((0, 15),), position=15, sid=SID, **kw):
    return {"playback_session": sid, "seq": seq, "intervals": [list(p) for p in intervals], "position": position,
            "rate": 1.0, "visible": True, **kw}


def bearer(user):
    return {"Authorization": f"Bearer {tokens.issue(user)}"}


def deliver_past(user, lesson, sid=SID, seconds_ago=600):
    when = clock.now_utc() - timedelta(seconds=seconds_ago)
    for i in range(10):
        study.record_segment_delivery(user, lesson.asset, "720p", i, i * 6, i * 6 + 6, sid, now=when)


def test_needs_auth(client, s):
    assert client.post(f"/api/v1/lessons/{s['lesson'].id}/progress", json=body()).status_code == 401
    assert client.get("/api/v1/me/credits").status_code == 401


def test_session_cookie_write_needs_csrf_header(client, auth, s):
    auth.login(s["member"].username)
    url = f"/api/v1/lessons/{s['lesson'].id}/progress"
    assert client.post(url, json=body()).status_code == 400
    r = client.post(url, json=body(), headers={"X-CSRFToken": client.csrf_token()})
    assert r.status_code == 200 and r.get_json()["accepted"] is True
    # A beacon (no headers) carries the token in the query; a wrong one is refused like a missing header.
    assert client.post(url + "?csrf_token=forged", json=body(seq=1)).status_code == 400
    r = client.post(url + "?csrf_token=" + client.csrf_token(), json=body(seq=1))
    assert r.status_code == 200 and r.get_json()["accepted"] is True


def test_lesson_out_of_reach_is_404(client, s):
    h = bearer(s["outsider"])
    assert client.post(f"/api/v1/lessons/{s['lesson'].id}/progress", json=body(), headers=h).status_code == 404
    assert client.get(f"/api/v1/lessons/{s['lesson'].id}/progress", headers=h).status_code == 404
    assert client.get("/api/v1/lessons/999999/progress", headers=h).status_code == 404


@pytest.mark.parametrize("payload", [None, "text", [], {"seq": 1}, body(seq="1"), body(intervals=((5, 1),))])
def test_bad_reports_are_400_with_a_message(client, s, payload):
    h = bearer(s["member"])
    url = f"/api/v1/lessons/{s['lesson'].id}/progress"
    if payload is None:
        r = client.post(url, data="{not json", headers={**h, "Content-Type": "application/json"}, csrf=False)
    else:
        r = client.post(url, json=payload, headers=h)
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert err["code"] == "bad_report" and err["message"]


def test_report_credit_and_resume(client, s):
    h = bearer(s["member"])
    deliver_past(s["member"], s["lesson"])
    url = f"/api/v1/lessons/{s['lesson'].id}/progress"
    r = client.post(url, json=body(0, [(0, 30)], 30), headers=h).get_json()
    assert r["accepted"] and r["watched_seconds"] == 30 and r["coverage"] == 0.5 and not r["completed"]
    # Right away, another 30 s of media: only the allowance is left in the wall-clock budget.
    r = client.post(url, json=body(1, [(30, 60)], 60, ended=True), headers=h).get_json()
    assert r["reason"] == "budget" and r["credited_seconds"] < 6 and not r["completed"]
    # Another device whose session began ten minutes ago shares the member's budget: no head start.
    other = "87654321-aaaa-4bbb-8ccc-123456789abc"
    deliver_past(s["member"], s["lesson"], sid=other)
    r = client.post(url, json=body(0, [(30, 60)], 40, sid=other), headers=h).get_json()
    assert r["credited_seconds"] < 6 and not r["completed"]
    # Half a minute later the rest is credited and the lesson completes.
    later = study.report_lesson_progress(s["member"], s["lesson"], study.parse_lesson_report(
        body(1, [(30, 60)], 58, sid=other)), now=clock.now_utc() + timedelta(seconds=30))
    assert later.completed and later.watched_seconds == 60
    got = client.get(url, headers=h).get_json()
    assert got["position"] == 58 and got["completed"] is True
    credits = client.get("/api/v1/me/credits", headers=h).get_json()
    assert credits["total_hours"] == ledger.hours_for_seconds(60)
    assert [e["kind"] for e in credits["entries"]] == ["lesson"]
    assert credits["state"] in ("on_pace", "behind") and "years" in credits


def test_script_posting_reports_only_earns_nothing(client, s):
    h = bearer(s["member"])
    url = f"/api/v1/lessons/{s['lesson'].id}/progress"
    for seq in range(5):
        r = client.post(url, json=body(seq, [(seq * 12, seq * 12 + 12)], seq * 12 + 12), headers=h)
    assert r.get_json()["watched_seconds"] == 0


def test_concurrent_identical_reports_count_once(app, s):
    """Several workers receiving the same report at once: one accepted, no error, one ledger entry."""
    deliver_past(s["member"], s["lesson"])
    token = tokens.issue(s["member"])
    url = f"/api/v1/lessons/{s['lesson'].id}/progress"
    results = []

    def post():
        c = app.test_client()
        r = c.post(url, json=body(0, [(0, 60)], 60), headers={"Authorization": f"Bearer {token}"})
        results.append((r.status_code, r.get_json()))

    threads = [threading.Thread(target=post) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(code == 200 for code, _ in results), results
    assert sum(1 for _, j in results if j["accepted"]) == 1
    assert db.session.execute(select(func.count()).select_from(StudyCredit)).scalar_one() == 1
    assert study.lesson_progress(s["member"], s["lesson"]).watched_seconds == 60


def test_a_conflicting_update_is_retried_not_lost(s, monkeypatch):
    """Optimistic locking: another worker bumping the row between our read and write forces a clean retry."""
    deliver_past(s["member"], s["lesson"])
    t = clock.now_utc()
    study.report_lesson_progress(s["member"], s["lesson"], study.parse_lesson_report(body(0, [(0, 10)], 10)), now=t)
    real = study._progress_row
    calls = []

    def racing(user, lesson_id):
        row = real(user, lesson_id)
        if not calls:
            db.session.connection().execute(update(WatchProgress.__table__).where(
                WatchProgress.__table__.c.id == row.id).values(version=row.version + 1))
        calls.append(1)
        return row

    monkeypatch.setattr(study, "_progress_row", racing)
    monkeypatch.setattr(study, "lean_lesson_report", lambda *args: None)  # the full path, with its retries
    r = study.report_lesson_progress(s["member"], s["lesson"], study.parse_lesson_report(body(1, [(10, 20)], 20)),
                                     now=t + timedelta(seconds=10))
    assert len(calls) == 2 and r.accepted and r.watched_seconds == pytest.approx(20)


def test_a_conflict_on_the_lean_path_writes_nothing_and_the_full_path_applies_the_report(s, monkeypatch):
    """Another worker's report lands between the lean path's read and its versioned writes: the lean path
    rolls back (its evidence credit too) and the full path applies the report once, from a fresh read."""
    deliver_past(s["member"], s["lesson"])
    t = clock.now_utc()
    study.report_lesson_progress(s["member"], s["lesson"], study.parse_lesson_report(body(0, [(0, 10)], 10)), now=t)
    real_plan = study._grant_plan
    other = create_engine(db.engine.url)  # another worker: its own connection, its own commit
    lean_calls, full_calls = [], []

    def racing_plan(*args):
        if not lean_calls:
            with other.begin() as conn:
                conn.execute(update(WatchProgress.__table__).values(version=WatchProgress.__table__.c.version + 1))
        lean_calls.append(1)
        return real_plan(*args)

    real_full = study._apply_lesson_report

    def full(*args):
        full_calls.append(1)
        return real_full(*args)

    monkeypatch.setattr(study, "_grant_plan", racing_plan)
    monkeypatch.setattr(study, "_apply_lesson_report", full)
    r = study.report_lesson_progress(s["member"], s["lesson"], study.parse_lesson_report(body(1, [(10, 20)], 20)),
                                     now=t + timedelta(seconds=10))
    other.dispose()
    assert lean_calls == [1, 1] and full_calls == [1]  # the lean attempt, then the full path once
    assert r.accepted and r.credited_seconds == pytest.approx(10)
    assert r.watched_seconds == pytest.approx(20)
    assert study.lesson_progress(s["member"], s["lesson"]).watched_seconds == pytest.approx(20)
    credited = db.session.execute(select(func.sum(SegmentDelivery.credited_s))).scalar_one()
    assert credited == pytest.approx(20)  # the lean attempt's evidence credit was rolled back


def test_openapi_describes_the_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/lessons/{lesson_id}/progress", "/readings/{reading_id}/progress", "/me/credits"):
        assert path in spec["paths"]
    assert "LessonReport" in spec["components"]["schemas"]


def test_reading_progress(client, s, db):
    from elearn.readings.models import CourseReading, Reading
    reading = Reading(title="党章", filename="a.txt", source_key="k", estimated_minutes=2.0,
                      uploaded_by_id=s["course"].lecturer_id)
    db.session.add(reading)
    db.session.flush()
    db.session.add(CourseReading(course_id=s["course"].id, reading_id=reading.id))
    db.session.commit()
    h = bearer(s["member"])
    url = f"/api/v1/readings/{reading.id}/progress"
    payload = {"playback_session": SID, "seq": 0, "active_seconds": 30, "position": 0.1, "visible": True}
    r = client.post(url, json=payload, headers=h).get_json()
    # The session was registered by this very report: only the allowance is available.
    assert r["accepted"] and r["active_seconds"] <= 5.0 + 1e-6
    assert client.post(url, json=payload, headers=bearer(s["outsider"])).status_code == 404
    assert client.post(url, json={**payload, "position": 2}, headers=h).status_code == 400
