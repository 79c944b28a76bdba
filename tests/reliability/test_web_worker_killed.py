"""gunicorn web workers SIGKILLed during a burst of progress reports: no credit lost, none doubled.

A member watches one lesson on three devices (playback sessions) at once, each fetching the playlists and
segments over HTTP like the player and then posting a report every 0.2 s. Mid-burst the two web workers are
killed in turn (gunicorn starts new ones). A report that fails with a connection error is sent again with the
same seq, as the player does. Afterwards the credited watch time is exactly the union of what the devices
reported (which the pacing keeps inside the wall-clock budget), and the lesson is credited once.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
import uuid

import pytest
from sqlalchemy import select

from elearn.extensions import db
from elearn.ledger import services as ledger
from elearn.ledger.models import StudyCredit
from elearn.study import intervals
from elearn.study.models import WatchProgress
from tests.media.clips import make_clip, needs_ffmpeg
from tests.reliability import seed
from tests.reliability.live import Browser, alive, children, media_urls, stop

pytestmark = [needs_ffmpeg, pytest.mark.slow]
DEVICES = 3
STEP_MEDIA_S = 0.1  # media seconds per report; with DEVICES reports every PACE_S, 1.5 s/s < the 2.0 cap
PACE_S = 0.2
OVERLAP_S = 0.05  # each report overlaps the previous one a little: the union must not count it twice


def _watch(port: int, member: str, asset_id: int, lesson_id: int, lo: float, hi: float, log: dict) -> None:
    """One device: fetch what the player fetches, then report [lo, hi] in small steps, retrying on errors."""
    tab = Browser(port)
    tab.login(member, seed.PASSWORD)
    ps = str(uuid.uuid4())
    master_url = f"/learn/media/{asset_id}/master.m3u8?ps={ps}"
    status, _h, master = tab.get(master_url)
    assert status == 200
    variant = next(u for u in media_urls(master.decode(), master_url) if u.split("?")[0].endswith(".m3u8"))
    status, _h, playlist = tab.get(variant)
    assert status == 200
    segments = [u for u in media_urls(playlist.decode(), variant) if not u.split("?")[0].endswith(".m3u8")]
    for url in segments:
        assert tab.get(url)[0] == 200
    seq, at = 0, lo
    while at < hi - 1e-9:
        seq += 1
        end = min(at + STEP_MEDIA_S, hi)
        report = {"playback_session": ps, "seq": seq, "intervals": [[max(lo, at - OVERLAP_S), end]],
                  "position": end, "rate": 1.0, "visible": True}
        deadline = time.monotonic() + 60
        while True:  # the same report (same seq) until the server answers it
            try:
                status, _h, body = tab.post_json(f"/api/v1/lessons/{lesson_id}/progress", report)
            except (OSError, http.client.HTTPException) as exc:
                log["connection_errors"].append(type(exc).__name__)
                status = None
            if status == 200:
                answer = json.loads(body)
                log["answers"].append(answer)
                log["reported"].append(report["intervals"][0])
                break
            if status is not None:
                log["bad"].append((status, body[:300]))
                if status < 500:
                    return
            assert time.monotonic() < deadline, "a report was never answered"
            time.sleep(0.2)
        at = end
        time.sleep(PACE_S)
    tab.reset()


def test_killed_web_workers_lose_and_double_no_credit(live, tmp_path):
    clip = make_clip(tmp_path / "lesson.mp4", seconds=24).read_bytes()
    app = live.app(immediate=True)
    with app.app_context():
        org, lecturer = seed.organisation_and_lecturer()
        member = seed.members(org, 1)[0]
        course = seed.published_course(lecturer)
        lesson = course.lessons[0]
        asset = seed.transcoded_asset(lecturer, lesson, clip)
        db.session.refresh(lesson)
        duration, ids = float(lesson.duration_s), (member.id, lesson.id, asset.id, member.username)
        db.session.remove()

    server, port = live.start_gunicorn(workers=2, threads=4)
    try:
        log = {"answers": [], "reported": [], "connection_errors": [], "bad": []}
        third = duration / DEVICES
        devices = [threading.Thread(target=_watch, args=(port, ids[3], ids[2], ids[1], k * third,
                                                          duration if k == DEVICES - 1 else (k + 1) * third, log))
                   for k in range(DEVICES)]
        for t in devices:
            t.start()
        burst = third / STEP_MEDIA_S * PACE_S
        killed = []
        # Two kills at least, then more (up to six, while the devices still report) until one has cut off a
        # request: reports now answer in a few milliseconds, so a kill between two of them may cut nothing.
        while len(killed) < 6 and any(t.is_alive() for t in devices):
            time.sleep(burst * (0.3 if len(killed) < 2 else 0.1))
            if len(killed) >= 2 and log["connection_errors"]:
                break
            workers = sorted(pid for pid in children(server.pid) if alive(pid) and pid not in killed)
            assert workers, "no gunicorn worker to kill"
            os.kill(workers[0], signal.SIGKILL)
            killed.append(workers[0])
        for t in devices:
            t.join(timeout=180)
        assert not any(t.is_alive() for t in devices)
        replaced = [pid for pid in children(server.pid) if alive(pid)]
        assert len(replaced) == 2 and not set(replaced) & set(killed), "gunicorn did not replace its workers"

        assert not log["bad"], log["bad"]
        assert log["connection_errors"], "no request was cut off by the kills; the test proved nothing"
        reasons = {a["reason"] for a in log["answers"]}
        assert "budget" not in reasons, "reports outran the wall-clock budget: the test's pacing is wrong"
        expected = intervals.clip(intervals.normalise(log["reported"]), 0.0, duration)

        tab = Browser(port)
        tab.login(ids[3], seed.PASSWORD)
        status, _h, body = tab.get(f"/api/v1/lessons/{ids[1]}/progress")
        tab.reset()
        progress = json.loads(body)
        assert status == 200
        assert progress["watched_seconds"] == pytest.approx(intervals.length(expected), abs=1e-3)
        assert progress["completed"] is True
    finally:
        stop(server)

    with app.app_context():
        row = db.session.execute(select(WatchProgress).where(WatchProgress.user_id == ids[0],
                                                             WatchProgress.lesson_id == ids[1])).scalar_one()
        stored = intervals.normalise(row.intervals)
        assert len(stored) == len(expected)
        assert [x for pair in stored for x in pair] == pytest.approx([x for pair in expected for x in pair])
        credits = db.session.execute(select(StudyCredit).where(StudyCredit.user_id == ids[0])).scalars().all()
        assert [(c.source_kind, c.source_id) for c in credits] == [("lesson", ids[1])]
        assert credits[0].hours == ledger.hours_for_seconds(duration)
        db.session.remove()
        db.engine.dispose()
