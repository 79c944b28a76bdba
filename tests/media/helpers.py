"""Helpers for the media tests: assets in any state with their files written through the storage API."""
from __future__ import annotations

import io
import itertools
from datetime import timedelta

from sqlalchemy import update

from elearn import clock
from elearn.extensions import db
from elearn.media import services as media
from elearn.media.models import MediaAsset, UploadSession
from elearn.storage import get_storage

MASTER = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n360p/index.m3u8\n"
MEDIA = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.000000,\nseg_00000.ts\n#EXT-X-ENDLIST\n"
# What the pipeline publishes for a video (renditions, poster, storyboard), relative to media/<id>/.
OUTPUT_FILES = {
    "master.m3u8": MASTER.encode(),
    "360p/index.m3u8": MEDIA.encode(),
    "360p/seg_00000.ts": bytes(range(256)) * 8,
    "poster.jpg": b"\xff\xd8\xff\xe0 jpeg",
    "storyboard.vtt": b"WEBVTT\n\n00:00:00.000 --> 00:00:06.000\nstoryboard_000.jpg#xywh=0,0,160,90\n",
    "storyboard_000.jpg": b"\xff\xd8\xff\xe0 sprite",
}
RENDITIONS = [{"name": "360p", "playlist": "360p/index.m3u8", "width": 640, "height": 360, "bandwidth": 800000,
               "codecs": "avc1.64001e,mp4a.40.2", "segments": [["seg_00000.ts", 0.0, 6.0]]}]

_upload_seq = itertools.count(1)


def save(key: str, data: bytes) -> str:
    get_storage().save(key, io.BytesIO(data))
    return key


def make_asset(lesson, status: str, *, current: bool = False, upload_status: str = "complete",
               partial: bool = False, error: str | None = None) -> MediaAsset:
    """An asset of ``lesson`` in ``status`` with the files it has in that state.

    Every asset has an upload session; unless the upload is still open, its source file is in
    ``uploads/<session>/``. A ready asset has its output in ``media/<id>/``; ``partial`` adds the hidden work
    directory of a transcode in progress. ``current`` makes it the lesson's current asset.
    """
    asset = MediaAsset(lesson_id=lesson.id, uploaded_by_id=lesson.course.lecturer_id, status=status,
                       source_name="lecture.mp4", source_size=5, error=error,
                       progress=1.0 if status == "ready" else 0.0)
    db.session.add(asset)
    db.session.flush()
    upload_id = f"upload-{next(_upload_seq):04d}-{asset.id}"
    if upload_status == "open":
        key = save(f"uploads/{upload_id}/source.part", b"vid")
    else:
        key = asset.source_key = save(f"uploads/{upload_id}/source.mp4", b"video")
    db.session.add(UploadSession(id=upload_id, user_id=asset.uploaded_by_id, asset_id=asset.id,
                                 filename="lecture.mp4", size=5, storage_key=key, status=upload_status))
    if status == "ready":
        asset.output_key = media.output_key(asset.id)
        asset.duration_s, asset.segment_seconds, asset.renditions = 6.0, 6.0, RENDITIONS
        for name, data in OUTPUT_FILES.items():
            save(f"{asset.output_key}/{name}", data)
    if partial:
        save(f"media/.{asset.id}.partial-k3j2/360p/seg_00000.ts", b"partial")
    if current:
        lesson.asset_id = asset.id
    db.session.commit()
    return asset


def output_keys(asset: MediaAsset) -> list[str]:
    return [f"media/{asset.id}/{name}" for name in OUTPUT_FILES]


def age(asset: MediaAsset, hours: float) -> None:
    """Make ``asset`` look last changed ``hours`` ago (for the current asset: when its lesson switched to it)."""
    db.session.execute(update(MediaAsset).where(MediaAsset.id == asset.id)
                       .values(updated_at=clock.now_utc() - timedelta(hours=hours)))
    db.session.commit()
