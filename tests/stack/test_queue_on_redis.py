"""Huey on Redis (``ELEARN_QUEUE_URL=redis://…``) with real `elearn worker` processes (the worker unit's command
line): a transcode the app enqueues waits in Redis through a hung worker killed with SIGKILL and through Redis
itself killed and restarted (AOF on), then a worker killed mid-way leaves it to the sweep of the next one, and it
is done exactly once more: two attempts in all, one published output, nothing left in the queue."""
from __future__ import annotations

import io
import os
import signal
import time
from datetime import timedelta

import pytest
from huey import RedisHuey
from sqlalchemy import update

from elearn.courses.models import Lesson
from elearn.extensions import db
from elearn.media import uploads
from elearn.media.models import MediaAsset
from elearn.storage import get_storage
from tests.media.clips import make_clip, needs_ffmpeg
from tests.reliability import seed
from tests.reliability.live import stop
from tests.stack.stack import RedisServer

pytestmark = [pytest.mark.stack, pytest.mark.slow, needs_ffmpeg]


def _asset(asset_id: int) -> MediaAsset:
    db.session.expire_all()
    return db.session.get(MediaAsset, asset_id)


def _wait_for(predicate, timeout: float, what: str, worker=None, poll: float = 0.1):
    deadline = time.monotonic() + timeout
    while not predicate():
        if worker is not None and worker.poll() is not None:
            raise AssertionError(f"worker exited ({worker.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(poll)


def _pending(url: str) -> int:
    """Jobs waiting in the site's Huey queue on Redis (a fresh connection each time)."""
    queue = RedisHuey("elearn", url=url)
    try:
        return queue.pending_count()
    finally:
        queue.storage.conn.connection_pool.disconnect()


def test_a_queued_job_survives_killed_workers_and_a_redis_restart_and_runs_once(make_stack, postgres_url,
                                                                                   tmp_path_factory):
    redis = RedisServer(tmp_path_factory.mktemp("redis-aof"), persistent=True).start()
    try:
        stack = make_stack(database_url=postgres_url, queue_url=redis.url(0), redis_url=redis.url(1))
        stack.init_db()
        clip = make_clip(tmp_path_factory.mktemp("clip") / "lecture.mp4", seconds=12, size="640x360").read_bytes()
        app = stack.app()  # enqueues onto the Redis queue, as a web node does
        with app.app_context():
            _org, lecturer = seed.organisation_and_lecturer()
            lesson = seed.published_course(lecturer).lessons[0]
            lesson.course.status = "draft"  # editable, as before its review
            db.session.commit()

            first = stack.start_worker("worker1")
            _wait_for(lambda: "consumer started" in stack.worker_log("worker1") and _pending(redis.url(0)) == 0,
                      90, "the first worker to start and take its start-up jobs", first)
            # A hung worker: stopped, its blocking reads of the queue (1 s) have run out, so it holds nothing.
            os.kill(first.pid, signal.SIGSTOP)
            time.sleep(2.5)
            upload = uploads.create_upload(lecturer, lesson, filename="lecture.mp4", size=len(clip))
            uploads.append_chunk(lecturer, upload, 0, io.BytesIO(clip))  # the app enqueues transcode_asset
            asset_id, lesson_id = upload.asset_id, lesson.id
            assert _asset(asset_id).status == "queued"
            assert _pending(redis.url(0)) == 1
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)

            redis.stop(signal.SIGKILL)  # no shutdown save: only the AOF, fsynced at each write, brings it back
            redis.start()
            assert _pending(redis.url(0)) == 1, "the queued job did not survive the Redis restart"

            second = stack.start_worker("worker2")
            _wait_for(lambda: _asset(asset_id).status == "transcoding", 120, "the second worker to take the job",
                      second, poll=0.05)
            os.kill(second.pid, signal.SIGKILL)  # mid-way, as the OOM killer would
            second.wait(timeout=10)
            stop(second, signal.SIGKILL)
            stuck = _asset(asset_id)
            assert stuck.status == "transcoding" and stuck.attempts == 1, "the job finished before the kill"
            # The sweep takes a transcode for dead after TRANSCODE_STALE_AFTER_S (30 min) of silence.
            db.session.execute(update(MediaAsset).where(MediaAsset.id == asset_id).values(
                heartbeat_at=stuck.heartbeat_at - timedelta(hours=1)))
            db.session.commit()

            third = stack.start_worker("worker3")
            try:
                _wait_for(lambda: _asset(asset_id).status in ("ready", "failed"), 300, "the job to finish", third)
                asset = _asset(asset_id)
                assert asset.status == "ready", asset.error
                assert asset.attempts == 2  # the killed run and the finished one: never run twice more
                assert db.session.get(Lesson, lesson_id).asset_id == asset_id
                media_root = get_storage().path("media")
                assert sorted(p.name for p in media_root.iterdir()) == [str(asset_id)], "partial output left"
                assert (media_root / str(asset_id) / "master.m3u8").is_file()
                _wait_for(lambda: _pending(redis.url(0)) == 0, 60, "the queue to empty", third)
                assert _asset(asset_id).attempts == 2
            finally:
                stop(third, signal.SIGINT)
            db.session.remove()
            db.engine.dispose()
    finally:
        redis.stop()
