"""The database locked for a moment by another connection (BEGIN EXCLUSIVE on the real SQLite file).

Shorter than the busy timeout: requests wait and succeed. Longer: they fail with a clear 503 "busy" — JSON
for the API, a page for the site — and nothing is half-written, so the client's retry (same seq) counts once.
"""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from elearn.extensions import db
from elearn.study.models import PlaybackSession, WatchProgress
from tests.conftest import CSRFClient
from tests.reliability import seed

SESSION = "locked-session-0001"
BUSY_TIMEOUT_S = 4.0  # ELEARN_SQLITE_BUSY_TIMEOUT_S for this test's app (the default is 10)


@pytest.fixture
def site(live):
    app = live.app(ELEARN_SQLITE_BUSY_TIMEOUT_S=BUSY_TIMEOUT_S)
    app.test_client_class = CSRFClient
    with app.app_context():
        org, lecturer = seed.organisation_and_lecturer()
        member = seed.members(org, 1)[0]
        course = seed.published_course(lecturer)
        lesson = course.lessons[0]
        asset = seed.fake_ready_asset(lesson, duration=600.0)
        seed.deliver_all_segments(member, asset, SESSION)
        client = app.test_client()
        r = client.post("/auth/login", data={"username": member.username, "password": seed.PASSWORD})
        assert r.status_code == 302
        yield {"app": app, "client": client, "member_id": member.id, "lesson_id": lesson.id,
               "db_file": live.db_file}
        db.session.remove()
        db.engine.dispose()


def _lock(db_file, seconds: float) -> threading.Thread:
    """Hold an exclusive lock on the database for ``seconds`` from another connection; returns at once."""
    held = threading.Event()

    def hold():
        conn = sqlite3.connect(str(db_file), timeout=0, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("UPDATE organisation SET name = name")  # a real pending write
        held.set()
        time.sleep(seconds)
        conn.execute("ROLLBACK")
        conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(5)
    return thread


def _report(client, lesson_id: int, seq: int, start: float, end: float):
    return client.post(f"/api/v1/lessons/{lesson_id}/progress", headers={"X-CSRFToken": client.csrf_token()},
                       json={"playback_session": SESSION, "seq": seq, "intervals": [[start, end]],
                             "position": end, "rate": 1.0, "visible": True})


def _state(member_id: int, lesson_id: int) -> tuple[float, int]:
    db.session.expire_all()
    row = db.session.query(WatchProgress).filter_by(user_id=member_id, lesson_id=lesson_id).one_or_none()
    session = db.session.get(PlaybackSession, SESSION)
    return (row.watched_s if row else 0.0), session.last_seq


def test_the_busy_timeout_is_the_configured_one(site):
    from sqlalchemy import text
    with site["app"].app_context():
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == int(BUSY_TIMEOUT_S * 1000)


def test_a_short_lock_is_waited_out(site):
    client, lesson_id = site["client"], site["lesson_id"]
    client.csrf_token()
    holder = _lock(site["db_file"], 1.5)
    began = time.monotonic()
    try:
        home = client.get("/")  # reads go on beside the writer (WAL)
        report = _report(client, lesson_id, 1, 0.0, 30.0)  # the write waits for the lock
        waited = time.monotonic() - began
    finally:
        holder.join()
    assert home.status_code == 200
    assert report.status_code == 200, report.get_data(as_text=True)
    assert report.get_json()["credited_seconds"] == pytest.approx(30.0)
    assert 1.0 < waited < BUSY_TIMEOUT_S
    assert _state(site["member_id"], lesson_id) == (pytest.approx(30.0), 1)


def test_a_lock_longer_than_the_busy_timeout_answers_503_and_writes_nothing(site):
    client, lesson_id, member_id = site["client"], site["lesson_id"], site["member_id"]
    client.csrf_token()
    assert _report(client, lesson_id, 1, 0.0, 30.0).status_code == 200
    before = _state(member_id, lesson_id)
    holder = _lock(site["db_file"], BUSY_TIMEOUT_S + 1.5)
    try:
        results = {}
        threads = [
            threading.Thread(target=lambda: results.setdefault("api", _report(client, lesson_id, 2, 30.0, 45.0))),
            threading.Thread(target=lambda: results.setdefault("page", site["app"].test_client().post(
                "/auth/login", data={"username": "member0", "password": "wrong-Passw0rd"}))),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        holder.join()
    # Nothing half-written: the failed report left no trace, and the client's retry with the same seq counts.
    assert _state(member_id, lesson_id) == before
    retry = _report(client, lesson_id, 2, 30.0, 45.0)
    assert retry.status_code == 200 and retry.get_json()["credited_seconds"] == pytest.approx(15.0)
    assert _state(member_id, lesson_id) == (pytest.approx(45.0), 2)

    api, page = results["api"], results["page"]
    assert api.status_code == 503, api.get_data(as_text=True)
    assert api.get_json()["error"]["code"] == "busy" and "繁忙" in api.get_json()["error"]["message"]
    assert page.status_code == 503 and "繁忙" in page.get_data(as_text=True)
    assert "locked" not in api.get_data(as_text=True) + page.get_data(as_text=True)
