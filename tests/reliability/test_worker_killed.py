"""A job worker killed with SIGKILL in the middle of a transcode: the next worker finishes the job.

Real `elearn worker` processes, real ffmpeg, a real SQLite file. Huey does not acknowledge tasks, so the
killed worker's task is gone; the sweep queued when a worker starts must find the asset by its stale
heartbeat, remove the partial output and queue it again.
"""
from __future__ import annotations

import io
import os
import signal
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from elearn.courses.models import Course, Lesson
from elearn.extensions import db
from elearn.media import services as media
from elearn.media import uploads
from elearn.media.models import MediaAsset
from elearn.orgs import members as users
from elearn.orgs import services as orgs
from elearn.policy import TRANSCODE_STALE_AFTER_S
from elearn.storage import get_storage
from media_pipeline import parse_master_playlist, parse_media_playlist
from tests.media.clips import make_clip, needs_ffmpeg
from tests.reliability.live import alive, children, processes, stop

pytestmark = [needs_ffmpeg, pytest.mark.slow]


def _asset(asset_id: int) -> MediaAsset:
    db.session.expire_all()
    return db.session.get(MediaAsset, asset_id)


def _wait_for(predicate, timeout: float, what: str, worker=None):
    deadline = time.monotonic() + timeout
    while not predicate():
        if worker is not None and worker.poll() is not None:
            raise AssertionError(f"worker exited ({worker.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _ffmpeg_on(instance) -> list[int]:
    return [pid for pid, _ppid, cmd in processes() if "ffmpeg" in cmd.split(" ", 1)[0] and str(instance) in cmd]


def test_killed_worker_mid_transcode_is_recovered(live, tmp_path):
    clip = make_clip(tmp_path / "long.mp4", seconds=24, size="1280x720").read_bytes()
    app = live.app()
    with app.app_context():
        org = orgs.create(None, name="可靠性党委", kind="committee", sector="rural")
        lecturer = users.create(None, username="rel_lecturer", name="讲师", password="Reliab1lity-pass",
                                organisation=org, role="lecturer")
        course = Course(title="转码中断", category="political_theory", innovative_theory=True, lecturer=lecturer,
                        status="draft")
        lesson = Lesson(course=course, title="第一讲")
        db.session.add_all([course, lesson])
        db.session.commit()
        upload = uploads.create_upload(lecturer, lesson, filename="long.mp4", size=len(clip))
        uploads.append_chunk(lecturer, upload, 0, io.BytesIO(clip))  # queues transcode_asset in jobs.db
        asset_id, lesson_id = upload.asset_id, lesson.id
        assert _asset(asset_id).status == "queued"
        media_root = get_storage().path("media")

        first = live.start_worker()
        try:
            _wait_for(lambda: (a := _asset(asset_id)).status == "transcoding" and a.progress > 0, 180,
                      "the transcode to report progress", first)
            ffmpeg = [pid for pid, _ppid, cmd in processes() if pid in children(first.pid) and "ffmpeg" in cmd]
            assert ffmpeg, "no ffmpeg child of the worker found mid-transcode"
            os.kill(first.pid, signal.SIGKILL)  # the worker alone, as the OOM killer would
            first.wait(timeout=10)
        finally:
            stop(first, signal.SIGKILL)
        # ffmpeg runs in its own session; with its parent gone it must not go on writing for long (its
        # progress pipe is broken). Give it a moment, then make sure it is gone either way.
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in ffmpeg) and time.monotonic() < deadline:
            time.sleep(0.2)
        orphans = [pid for pid in ffmpeg if alive(pid)]
        for pid in orphans:
            os.kill(pid, signal.SIGKILL)

        stuck = _asset(asset_id)
        assert stuck.status == "transcoding" and stuck.attempts == 1
        assert list(media_root.glob(f".{asset_id}.partial-*")), "expected the killed job's partial output"
        assert db.session.get(Lesson, lesson_id).asset_id is None  # never pointed at partial output
        # TRANSCODE_STALE_AFTER_S is a policy constant (30 min), not a setting: let that much time pass on
        # the heartbeat instead of in the test.
        db.session.execute(update(MediaAsset).where(MediaAsset.id == asset_id).values(
            heartbeat_at=stuck.heartbeat_at - timedelta(seconds=TRANSCODE_STALE_AFTER_S + 60)))
        db.session.commit()

        second = live.start_worker()
        try:
            _wait_for(lambda: _asset(asset_id).status in ("ready", "failed"), 300, "the job to finish", second)
        finally:
            stop(second, signal.SIGINT)

        asset = _asset(asset_id)
        assert asset.status == "ready", asset.error
        assert asset.attempts == 2 and asset.progress == 1.0 and asset.heartbeat_at is None
        assert db.session.get(Lesson, lesson_id).asset_id == asset_id
        out = get_storage().path(asset.output_key)
        master = parse_master_playlist((out / "master.m3u8").read_text(encoding="utf-8"))
        assert master.variants
        for variant in master.variants:
            playlist = parse_media_playlist((out / variant.uri).read_text(encoding="utf-8"))
            assert playlist.segments
            total = 0.0
            for segment in playlist.segments:
                path = (out / variant.uri).parent / segment.uri
                assert path.is_file() and path.stat().st_size > 0, path
                total += segment.duration
            assert total == pytest.approx(asset.duration_s, abs=0.3)
            assert [s for s, *_ in media.segment_times(asset, variant.uri)] == list(range(len(playlist.segments)))
        assert sorted(p.name for p in media_root.iterdir()) == [str(asset_id)], "temporary folders left"
        assert not _ffmpeg_on(live.path), "ffmpeg processes left running"
        # ffmpeg dies with its worker (parent-death signal); before that fix it ran on > 10 s, writing into
        # the partial folder that the next attempt removes.
        assert not orphans, f"ffmpeg {orphans} kept running after its worker was SIGKILLed"
