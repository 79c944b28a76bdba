"""The disk fills up during a video upload: a real tmpfs mounted over the storage's uploads/ folder.

The chunk that hit the full disk is refused with a clear 507 "磁盘空间不足" and the offset to resume from;
the upload stays open at its last complete chunk; once space is free the same upload resumes and finishes;
nothing ever points at a partial file.
"""
from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

from elearn.media.models import MediaAsset, UploadSession
from elearn.storage import get_storage
from tests.media.clips import make_clip, needs_ffmpeg

pytestmark = needs_ffmpeg
PAGE = 4096


@pytest.fixture
def small_disk(app):
    """uploads/ on a 1 MiB tmpfs (we are root here and in CI; no mount means a failed test, not a skip)."""
    folder = get_storage().path("uploads")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True,
                          text=True)
    assert done.returncode == 0, f"cannot mount a tmpfs to fill up (needs root): {done.stderr.strip()}"
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def _free(folder) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def test_a_full_disk_pauses_the_upload_with_a_clear_message(app, db, client, auth, make_user, make_course,
                                                           make_lesson, small_disk, tmp_path):
    data = make_clip(tmp_path / "lecture.mp4", seconds=3).read_bytes()
    lecturer = make_user(role="lecturer")
    lesson = make_lesson(course=make_course(lecturer=lecturer, status="draft"))
    auth.login(lecturer.username)
    headers = {"X-CSRFToken": client.csrf_token()}
    r = client.post(f"/studio/lessons/{lesson.id}/uploads", headers=headers,
                    json={"filename": "lecture.mp4", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    assert r.status_code == 201, r.get_data(as_text=True)
    url = r.get_json()["url"]
    chunk = len(data) // 4 + 1
    # Leave room for one chunk and a half, whole pages.
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (_free(small_disk) - (chunk * 3 // 2) // PAGE * PAGE))
    assert chunk < _free(small_disk) < 2 * chunk

    assert client.put(f"{url}?offset=0", data=data[:chunk], headers=headers).status_code == 200
    full = client.put(f"{url}?offset={chunk}", data=data[chunk:2 * chunk], headers=headers)
    assert full.status_code == 507, full.get_data(as_text=True)
    body = full.get_json()
    assert body["error"]["code"] == "disk_full" and "磁盘空间不足" in body["error"]["message"]
    assert body["offset"] == chunk and full.headers["Upload-Offset"] == str(chunk)

    # Nothing points at a partial file: the part file holds exactly the acknowledged bytes, the asset waits.
    upload = db.session.get(UploadSession, url.rsplit("/", 1)[1])
    db.session.refresh(upload)
    assert upload.status == "open"
    assert get_storage().path(upload.storage_key).read_bytes() == data[:chunk]
    asset = db.session.get(MediaAsset, upload.asset_id)
    assert asset.status == "uploading" and asset.source_key is None
    assert lesson.asset_id is None
    state = client.get(url)
    assert state.status_code == 200 and state.get_json()["offset"] == chunk
    # Still full: the same answer again, nothing appended.
    assert client.put(f"{url}?offset={chunk}", data=data[chunk:], headers=headers).status_code == 507
    assert client.get(url).get_json()["offset"] == chunk

    filler.unlink()  # the operator frees space; the client resumes from the offset it was given
    offset = chunk
    while offset < len(data):
        r = client.put(f"{url}?offset={offset}", data=data[offset:offset + chunk], headers=headers)
        assert r.status_code == 200, r.get_data(as_text=True)
        offset = r.get_json()["offset"]
    db.session.expire_all()
    upload = db.session.get(UploadSession, upload.id)
    asset = db.session.get(MediaAsset, upload.asset_id)
    assert upload.status == "complete" and asset.status == "ready", asset.error  # checksum held; transcoded
    assert get_storage().path(asset.source_key).read_bytes() == data
    assert db.session.get(type(lesson), lesson.id).asset_id == asset.id
