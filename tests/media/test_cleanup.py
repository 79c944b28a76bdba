"""Removing the files of videos no lesson plays any more: replaced videos after the grace period, failed
uploads; never the current video, never one still on its way."""
import logging

import pytest
from sqlalchemy import select

from elearn.extensions import db
from elearn.media import services as media
from elearn.media import tasks as media_tasks
from elearn.media import uploads
from elearn.media.models import MediaAsset, UploadSession
from elearn.storage import get_storage
from tests.media.helpers import age, make_asset, output_keys, save

GRACE_H = 24


@pytest.fixture
def lesson(make_user, make_course, make_lesson):
    return make_lesson(course=make_course(lecturer=make_user(role="lecturer"), status="draft"))


def exists(key: str) -> bool:
    return get_storage().exists(key)


def test_replaced_video_is_removed_after_the_grace_period_and_not_before(lesson):
    old = make_asset(lesson, "ready", current=True)
    new = make_asset(lesson, "ready", current=True)  # the re-upload the lesson switched to
    old_source = old.source_key
    save(f"media/.{old.id}.old-x1/master.m3u8", b"#EXTM3U\n")  # swap directory of a killed transcode
    # Keys that merely start with the old asset's id belong to someone else.
    neighbour = save(f"media/{old.id}0/master.m3u8", b"#EXTM3U\n")
    age(old, hours=30 * 24)
    age(new, hours=GRACE_H - 1)  # switched 23 h ago: someone may still be watching the old version

    assert media.remove_unused_asset_files() == []
    assert all(exists(key) for key in output_keys(old)) and exists(old_source)

    age(new, hours=GRACE_H + 1)
    assert media.remove_unused_asset_files() == [old.id]
    assert not exists(f"media/{old.id}")
    assert not exists(old_source) and not exists(old_source.rsplit("/", 1)[0])  # the upload's directory too
    assert not list(get_storage().path("media").glob(f".{old.id}.*"))
    assert exists(neighbour)
    assert all(exists(key) for key in output_keys(new)) and exists(new.source_key)

    old, new = db.session.get(MediaAsset, old.id), db.session.get(MediaAsset, new.id)
    assert old.output_key is None and old.source_key is None
    assert old.renditions  # kept: delivered segments of the old version still map to media time
    assert new.output_key == f"media/{new.id}" and lesson.asset_id == new.id
    assert media.remove_unused_asset_files() == []  # once only


def test_current_and_unfinished_assets_are_never_touched(lesson, make_lesson):
    # Another lesson whose current video is older than every asset of this lesson: ids compare per lesson.
    other = make_lesson(course=lesson.course)
    other_current = make_asset(other, "ready", current=True)
    current = make_asset(lesson, "ready", current=True)
    transcoding = make_asset(lesson, "transcoding", partial=True)
    queued = make_asset(lesson, "queued")
    uploading = make_asset(lesson, "uploading", upload_status="open")
    everything = [other_current, current, transcoding, queued, uploading]
    for asset in everything:
        age(asset, hours=90 * 24)
    sources = {asset.id: asset.source_key for asset in everything}
    part = db.session.execute(select(UploadSession.storage_key)
                              .where(UploadSession.asset_id == uploading.id)).scalar_one()

    assert media.remove_unused_asset_files() == []

    for asset in (other_current, current):
        assert all(exists(key) for key in output_keys(asset)), asset.id
    assert exists(f"media/.{transcoding.id}.partial-k3j2/360p/seg_00000.ts")
    for asset in everything:
        asset = db.session.get(MediaAsset, asset.id)
        assert asset.source_key == sources[asset.id]
        assert asset.source_key is None or exists(asset.source_key)
    assert exists(part)  # the upload still being sent
    assert db.session.get(MediaAsset, current.id).output_key == f"media/{current.id}"


def test_failed_upload_leftovers_are_removed_after_the_grace_period(lesson):
    make_asset(lesson, "ready", current=True)
    failed = make_asset(lesson, "failed", error="转码失败：moov atom not found")
    source = failed.source_key
    age(failed, hours=GRACE_H - 1)
    assert media.remove_unused_asset_files() == []
    assert exists(source)

    age(failed, hours=GRACE_H + 1)
    assert media.remove_unused_asset_files() == [failed.id]
    assert not exists(source) and not exists(source.rsplit("/", 1)[0])
    failed = db.session.get(MediaAsset, failed.id)
    # The studio still shows why the last upload failed.
    assert failed.status == "failed" and failed.error == "转码失败：moov atom not found"


def test_a_cancelled_upload_leaves_no_directory(lesson):
    upload = uploads.create_upload(lesson.course.lecturer, lesson, filename="lecture.mp4", size=10)
    folder = upload.storage_key.rsplit("/", 1)[0]
    assert exists(upload.storage_key)
    uploads.abort_upload(lesson.course.lecturer, upload)
    assert not exists(folder)


def test_the_media_sweep_removes_replaced_videos_and_says_so(lesson, caplog):
    old = make_asset(lesson, "ready", current=True)
    new = make_asset(lesson, "ready", current=True)
    age(old, hours=GRACE_H + 2)
    age(new, hours=GRACE_H + 1)
    caplog.set_level(logging.INFO, logger="elearn")

    media_tasks.sweep_media.enqueue()  # inline in tests

    assert not exists(f"media/{old.id}") and exists(f"media/{new.id}/master.m3u8")
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"asset {old.id} of lesson {lesson.id}" in m and f"media/{old.id}" in m for m in messages)
    assert any("sweep_media removed the files of 1 unused media assets" in m for m in messages)
