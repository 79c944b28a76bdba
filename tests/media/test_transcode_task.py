"""The transcode job end to end on tiny synthetic clips: upload → job → ready asset → lesson switched."""
import io
from datetime import timedelta

import pytest

from elearn import clock
from elearn.extensions import db
from elearn.media import services as media
from elearn.media import tasks as media_tasks
from elearn.media import uploads
from elearn.media.models import MediaAsset
from elearn.queue import Task
from elearn.storage import get_storage
from media_pipeline import TranscodeError
from tests.media.clips import make_clip, needs_ffmpeg

pytestmark = needs_ffmpeg

SRT_GB18030 = "1\n00:00:00,000 --> 00:00:01,500\n同志们好\n\n2\n00:00:01,500 --> 00:00:02,000\n开始上课\n".encode(
    "gb18030")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clips") / "lecture.mp4").read_bytes()


@pytest.fixture
def lesson(make_user, make_course, make_lesson):
    lecturer = make_user(role="lecturer")
    # A lesson already playing an older video: it must keep it until the new one is ready.
    return make_lesson(course=make_course(lecturer=lecturer, status="draft"), duration=99)


def _upload(lesson, data, filename="lecture.mp4"):
    user = lesson.course.lecturer
    upload = uploads.create_upload(user, lesson, filename=filename, size=len(data))
    uploads.append_chunk(user, upload, 0, io.BytesIO(data))  # the queue runs jobs inline in tests
    return db.session.get(MediaAsset, upload.asset_id)


def test_upload_is_transcoded_and_the_lesson_switched(lesson, clip):
    old_asset_id = lesson.asset_id
    asset = _upload(lesson, clip)
    db.session.refresh(asset)
    db.session.refresh(lesson)
    assert asset.status == "ready", asset.error
    assert lesson.asset_id == asset.id != old_asset_id
    assert asset.progress == 1.0 and asset.attempts == 1 and 1.5 < asset.duration_s < 2.5
    out = get_storage().path(asset.output_key)
    assert asset.output_key == f"media/{asset.id}"
    for name in ("master.m3u8", "poster.jpg", "storyboard.vtt"):
        assert (out / name).is_file()
    assert not list(out.parent.glob(f".{asset.id}.*"))  # no temporary directories left
    rendition = asset.renditions[0]
    assert (out / rendition["playlist"]).is_file() and rendition["width"] == 320
    times = media.segment_times(asset, rendition["name"])
    assert times[0][0] == 0 and times[0][1] == 0.0
    assert times[-1][2] == pytest.approx(asset.duration_s, abs=0.05)
    assert media.segment_times(asset, rendition["playlist"]) == times
    # Beside the video, the audio-only rendition to listen to, its segments the video's.
    assert [r["name"] for r in asset.renditions] == ["240p", "audio"] and (out / "listen.m3u8").is_file()
    assert [len(r["segments"]) for r in asset.renditions] == [len(times)] * 2
    assert media.has_listen_rendition(asset)


def test_subtitles_before_and_after_transcoding(lesson, clip):
    user = lesson.course.lecturer
    media.add_subtitle(user, lesson, SRT_GB18030, "讲稿.srt", "zh-CN")
    asset = _upload(lesson, clip)
    master = get_storage().path(f"{asset.output_key}/master.m3u8").read_text()
    assert 'TYPE=SUBTITLES' in master and 'LANGUAGE="zh-CN"' in master
    assert media.subtitle_cues(lesson) == [(0.0, 1.5, "同志们好"), (1.5, 2.0, "开始上课")]

    # Added later: published on the ready asset by the attach_subtitles job (inline in tests).
    media.add_subtitle(user, lesson, b"WEBVTT\n\n00:00.000 --> 00:01.000\nComrades\n", "en.vtt", "en")
    master = get_storage().path(f"{asset.output_key}/master.m3u8").read_text()
    assert 'LANGUAGE="en"' in master and 'LANGUAGE="zh-CN"' in master


def test_bad_subtitles_are_refused(lesson):
    from elearn.errors import ServiceError
    with pytest.raises(ServiceError):
        media.add_subtitle(lesson.course.lecturer, lesson, b"\x00\x01binary", "x.srt")
    with pytest.raises(ServiceError):
        media.add_subtitle(lesson.course.lecturer, lesson, b"hello", "x.txt")
    assert lesson.subtitles == []


def test_corrupt_video_fails_with_a_reason_and_the_lesson_is_unchanged(lesson):
    old_asset_id = lesson.asset_id
    asset = _upload(lesson, "这不是视频，只是一段文字。\n".encode() * 50, filename="fake.mp4")
    db.session.refresh(asset)
    db.session.refresh(lesson)
    assert asset.status == "failed" and asset.error and "无法使用该文件" in asset.error
    assert lesson.asset_id == old_asset_id
    assert not get_storage().exists(f"media/{asset.id}")


def test_failing_transcode_is_retried_then_fails_leaving_the_old_video(lesson, clip, monkeypatch):
    old_asset_id = lesson.asset_id
    calls = []

    def broken(src, out_dir, ladder, on_progress=None, **kw):
        calls.append(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        (out_dir.parent / f".{out_dir.name}.partial-x").mkdir()  # as a crash would leave it
        on_progress(0.5)
        raise TranscodeError("ffmpeg failed with exit status 1", "boom")

    monkeypatch.setattr(media, "transcode", broken)
    asset = _upload(lesson, clip)  # first attempt runs inline; Huey schedules the retries
    db.session.refresh(asset)
    assert asset.status == "queued" and asset.attempts == 1 and "稍后自动重试" in asset.error
    with pytest.raises(media.TranscodeRetry):
        media.transcode_asset(asset.id)
    assert media.transcode_asset(asset.id) == "failed"  # the last attempt gives up
    db.session.refresh(asset)
    db.session.refresh(lesson)
    assert len(calls) == 3 and asset.attempts == 3 and "转码失败" in asset.error
    assert lesson.asset_id == old_asset_id
    assert not list(get_storage().path("media").glob(f".{asset.id}.*"))


def test_a_worker_killed_mid_job_is_noticed_and_the_job_runs_again(lesson, clip, monkeypatch):
    calls = []
    monkeypatch.setattr(Task, "enqueue", lambda self, *args: calls.append((self, args)))
    asset = _upload(lesson, clip)
    assert calls == [(media_tasks.transcode_asset, (asset.id,))]
    # The worker claimed it, wrote some output, and died.
    assert media._claim(asset.id)
    partial = get_storage().path("media") / f".{asset.id}.partial-dead"
    partial.mkdir(parents=True)
    assert media.requeue_stale_assets() == []  # heartbeat still fresh: leave it alone
    asset = db.session.get(MediaAsset, asset.id)
    asset.heartbeat_at = clock.now_utc() - timedelta(hours=2)
    db.session.commit()
    monkeypatch.undo()
    assert media.requeue_stale_assets() == [asset.id]  # re-enqueued; runs inline here
    db.session.refresh(asset)
    db.session.refresh(lesson)
    assert asset.status == "ready" and asset.attempts == 2 and lesson.asset_id == asset.id
    assert not partial.exists()


def test_a_job_for_an_asset_done_or_running_elsewhere_does_nothing(lesson, clip):
    asset = _upload(lesson, clip)
    assert media.transcode_asset(asset.id) == "ready"
    db.session.refresh(asset)
    assert asset.attempts == 1
    assert media.transcode_asset(987654) == "missing"
