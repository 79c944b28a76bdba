"""Media assets: the transcode job's work, its state for the studio, subtitles, and access-checked serving.

Life of an asset (``MediaAsset.status``): uploading → queued → transcoding → ready | failed. The pipeline
writes ``media/<asset id>/`` in storage through a hidden temporary directory renamed into place at the end,
and the lesson is switched to the asset only after that, in the same transaction that marks it ready: a
lesson never points at partial output, and its previous video plays until then.

Huey does not acknowledge tasks: a worker killed mid-job loses its task. The worker therefore writes a
heartbeat while it transcodes, and :func:`requeue_stale_assets` (the ``sweep_media`` job, and the studio's
status poll for one asset) queues again what lost its worker, after removing the partial output.

Files of assets that no lesson plays any more (a replaced video, a failed or cancelled upload) are removed by
:func:`remove_unused_asset_files`, also from ``sweep_media``, a grace period after they went out of use.
"""
from __future__ import annotations

import logging
import math
import re
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from elearn import clock
from elearn.courses import catalog
from elearn.courses import services as courses
from elearn.courses.models import Lesson
from elearn.errors import NotFound, ServiceError
from elearn.extensions import db, existing, rowcount
from elearn.media import tasks as media_tasks
from elearn.media import uploads
from elearn.media.models import MediaAsset, Subtitle, UploadSession
from elearn.orgs.models import User
from elearn.policy import (
    MEDIA_CLEANUP_BATCH,
    MEDIA_SUPERSEDED_GRACE_S,
    PLAYBACK_RATES,
    SUBTITLE_LANGUAGES,
    TRANSCODE_ATTEMPTS,
    TRANSCODE_HEARTBEAT_S,
    TRANSCODE_PROGRESS_STEP,
    TRANSCODE_STALE_AFTER_S,
)
from elearn.search import tasks as search_tasks
from elearn.storage import StorageKeyError, get_storage
from elearn.study import services as study
from media_pipeline import (
    AUDIO_RENDITION_NAME,
    DEFAULT_SEGMENT_SECONDS,
    LISTEN_PLAYLIST_NAME,
    MediaError,
    SubtitleError,
    ToolMissing,
    TranscodeError,
    add_subtitle_track,
    parse_cues,
    parse_media_playlist,
    plan_ladder,
    probe,
    subtitles_to_webvtt,
    transcode,
    validate,
)
from media_pipeline.encrypt import KEYS_DIR, encrypt_asset_dir, new_secret, segment_key, write_timeline
from media_pipeline.probe import segment_start_time

log = logging.getLogger(__name__)

MEDIA_PREFIX = "media"
MASTER_PLAYLIST = "master.m3u8"
# What the serving route hands out, by extension. Anything else in an asset directory is not served.
MIME_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".aac": "audio/aac",
    ".vtt": "text/vtt",
    ".jpg": "image/jpeg",
}
SEGMENT_EXTENSIONS = (".ts", ".m4s", ".mp4", ".aac")
# Same shape as the study service accepts (a UUID in practice).
PLAYBACK_SESSION_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")


# ---------------------------------------------------------------- the transcode job


def output_key(asset_id: int) -> str:
    return f"{MEDIA_PREFIX}/{asset_id}"


def _remove_partial_output(asset_id: int) -> None:
    """Delete what a killed transcode left: the pipeline's hidden work and swap directories."""
    root = get_storage().path(MEDIA_PREFIX)
    if root.is_dir():
        for leftover in [*root.glob(f".{asset_id}.partial-*"), *root.glob(f".{asset_id}.old-*")]:
            shutil.rmtree(leftover, ignore_errors=True)


def _claim(asset_id: int) -> bool:
    """Mark the asset as transcoding by this worker, if it is queued or its last worker went silent."""
    now = clock.now_utc()
    stale = now - timedelta(seconds=TRANSCODE_STALE_AFTER_S)
    result = db.session.execute(
        update(MediaAsset)
        .where(MediaAsset.id == asset_id,
               or_(MediaAsset.status == "queued",
                   and_(MediaAsset.status == "transcoding",
                        or_(MediaAsset.heartbeat_at.is_(None), MediaAsset.heartbeat_at < stale))))
        .values(status="transcoding", attempts=MediaAsset.attempts + 1, heartbeat_at=now, progress=0.0)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return rowcount(result) == 1


class _ProgressWriter:
    """Writes the fraction done, in its own short transaction, every few per cent or seconds."""

    def __init__(self, asset_id: int):
        self.asset_id = asset_id
        self.written = 0.0
        self.at = time.monotonic()

    def __call__(self, fraction: float) -> None:
        if fraction - self.written < TRANSCODE_PROGRESS_STEP and time.monotonic() - self.at < TRANSCODE_HEARTBEAT_S:
            return
        self.written, self.at = fraction, time.monotonic()
        db.session.execute(update(MediaAsset).where(MediaAsset.id == self.asset_id)
                           .values(progress=round(min(fraction, 0.999), 4), heartbeat_at=clock.now_utc())
                           .execution_options(synchronize_session=False))
        db.session.commit()


def _fail(asset: MediaAsset, reason: str) -> None:
    asset.status = "failed"
    asset.error = reason
    asset.heartbeat_at = None
    db.session.commit()


class TranscodeRetry(Exception):
    """Raised out of the job so that Huey retries it later (with backoff)."""


def transcode_asset(asset_id: int) -> str:
    """Transcode one uploaded asset and switch its lesson to it. Returns the asset's final status.

    Unusable input fails at once with the reason on ``asset.error``; processing errors are retried up to
    ``TRANSCODE_ATTEMPTS`` times in all (:class:`TranscodeRetry` tells the queue to try again).
    """
    asset = db.session.get(MediaAsset, asset_id)
    if asset is None:
        return "missing"
    if not _claim(asset_id):
        db.session.refresh(asset)
        return asset.status  # done already, or another worker is on it
    db.session.refresh(asset)
    _remove_partial_output(asset_id)
    storage = get_storage()
    try:
        src = storage.path(asset.source_key or "")
    except StorageKeyError:
        _fail(asset, _("找不到上传的源文件。"))
        return asset.status
    if not src.is_file():
        _fail(asset, _("找不到上传的源文件。"))
        return asset.status
    try:
        info = probe(src)
        validate(info, max_duration_s=current_app.config["ELEARN_MAX_VIDEO_SECONDS"])
        ladder = plan_ladder(info)
    except MediaError as exc:
        _fail(asset, _("无法使用该文件：%(reason)s", reason=exc.reason))
        return asset.status

    out_dir = storage.path(output_key(asset_id))
    secret = new_secret()
    try:
        result = transcode(src, out_dir, ladder, on_progress=_ProgressWriter(asset_id), info=info,
                           encryption_secret=secret)
    except (TranscodeError, ToolMissing, OSError) as exc:
        db.session.rollback()
        _remove_partial_output(asset_id)
        message = getattr(exc, "message", None) or str(exc).splitlines()[0]
        log.warning("transcode of asset %s failed (attempt %s): %s", asset_id, asset.attempts, exc)
        asset = existing(MediaAsset, asset_id)
        if asset.attempts < TRANSCODE_ATTEMPTS:
            asset.status = "queued"
            asset.error = _("第 %(n)s 次转码失败，稍后自动重试：%(reason)s", n=asset.attempts, reason=message)
            asset.heartbeat_at = clock.now_utc()
            db.session.commit()
            raise TranscodeRetry(message) from exc
        _fail(asset, _("转码失败：%(reason)s", reason=message))
        return asset.status

    lesson = existing(Lesson, asset.lesson_id)
    for subtitle in lesson.subtitles:
        _publish_subtitle(out_dir, subtitle)
    asset = existing(MediaAsset, asset_id)
    asset.renditions = _describe_renditions(out_dir, result.all_variants)
    asset.duration_s = result.duration
    asset.has_video = info.has_video
    asset.segment_seconds = float(DEFAULT_SEGMENT_SECONDS)
    asset.output_key = output_key(asset_id)
    asset.key_secret = secret.hex()
    asset.status, asset.progress, asset.error, asset.heartbeat_at = "ready", 1.0, None, None
    # A later upload that finished first wins: never switch a lesson back to an older video.
    if lesson.asset_id is None or lesson.asset_id < asset.id:
        lesson.asset_id = asset.id
    db.session.commit()
    return asset.status


def _describe_renditions(out_dir: Path, variants) -> list[dict]:
    """One entry per variant with its segments' media times, so that segments map to watched time."""
    described = []
    for variant in variants:
        media = parse_media_playlist((out_dir / variant.uri).read_text(encoding="utf-8"))
        segments, start = [], 0.0
        for segment in media.segments:
            segments.append([segment.uri, round(start, 3), round(start + segment.duration, 3)])
            start += segment.duration
        described.append({
            "name": PurePosixPath(variant.uri).parts[0], "playlist": variant.uri, "width": variant.width,
            "height": variant.height, "bandwidth": variant.bandwidth, "codecs": variant.codecs,
            "segments": segments,
        })
    return described


def requeue_stale_assets(asset_ids: list[int] | None = None) -> list[int]:
    """Queue again assets whose worker died (stale heartbeat) or whose queue entry was lost.

    Partial output is removed first. An asset that has used up its attempts is marked failed instead.
    Returns the ids queued again.
    """
    stale = clock.now_utc() - timedelta(seconds=TRANSCODE_STALE_AFTER_S)
    stmt = select(MediaAsset).where(MediaAsset.status.in_(("queued", "transcoding")),
                                    or_(MediaAsset.heartbeat_at.is_(None), MediaAsset.heartbeat_at < stale))
    if asset_ids is not None:
        stmt = stmt.where(MediaAsset.id.in_(asset_ids))
    requeued = []
    for asset in db.session.execute(stmt).scalars().all():
        _remove_partial_output(asset.id)
        if asset.status == "transcoding" and asset.attempts >= TRANSCODE_ATTEMPTS:
            _fail(asset, _("转码多次中断，已放弃。请重新上传。"))
            continue
        asset.status, asset.progress, asset.heartbeat_at = "queued", 0.0, clock.now_utc()
        db.session.commit()
        media_tasks.transcode_asset.enqueue(asset.id)
        requeued.append(asset.id)
    return requeued


# ---------------------------------------------------------------- removing what no lesson plays

# Upload session ids as ``uploads.create_upload`` makes them (token_urlsafe): one plain path component.
_UPLOAD_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def remove_unused_asset_files(now: datetime | None = None) -> list[int]:
    """Delete the files of assets that no lesson plays any more, once ``MEDIA_SUPERSEDED_GRACE_S`` is over.

    Two kinds qualify: a ready asset whose lesson switched to a newer one at least that long ago (a member
    who started the old version keeps watching it until then), and a failed or cancelled upload that failed
    at least that long ago. What goes: the asset's HLS output ``media/<id>/`` (renditions, poster,
    storyboard, published subtitles), hidden work directories of its transcode, and the directories of its
    finished upload sessions (the source file). Never the current asset of any lesson, never an asset still
    uploading, queued or transcoding, never a file outside the asset's own keys.

    The row stays (watch records refer to it, and its renditions still map delivered segments to media time);
    ``output_key`` and ``source_key`` are cleared, which is what marks it removed, and the media route answers
    404 for it. At most ``MEDIA_CLEANUP_BATCH`` assets per call; returns their ids.
    """
    cutoff = (now or clock.now_utc()) - timedelta(seconds=MEDIA_SUPERSEDED_GRACE_S)
    current = aliased(MediaAsset)
    playing = aliased(Lesson)
    # Lessons only ever switch to a newer asset, so a ready asset older than its lesson's current one can
    # never play again; the current asset's updated_at is when the switch happened (or later).
    superseded = and_(MediaAsset.status == "ready", current.status == "ready", current.id > MediaAsset.id,
                      current.updated_at < cutoff)
    candidates = db.session.execute(
        select(MediaAsset.id, MediaAsset.lesson_id, MediaAsset.status, MediaAsset.output_key,
               MediaAsset.source_key)
        .join(Lesson, Lesson.id == MediaAsset.lesson_id)
        .outerjoin(current, current.id == Lesson.asset_id)
        .where(or_(superseded, MediaAsset.status == "failed"),
               MediaAsset.updated_at < cutoff,
               or_(MediaAsset.output_key.is_not(None), MediaAsset.source_key.is_not(None)),
               ~exists().where(playing.asset_id == MediaAsset.id))
        .order_by(MediaAsset.id).limit(MEDIA_CLEANUP_BATCH)).all()
    removed = []
    for asset_id, lesson_id, status, stored_output_key, source_key in candidates:
        # Marked first, and only if it is still unused in the same state: a crash after this leaves files
        # behind (logged below when it happens), never a lesson without its video.
        marked = db.session.execute(
            update(MediaAsset)
            .where(MediaAsset.id == asset_id, MediaAsset.status == status,
                   ~exists().where(playing.asset_id == asset_id))
            .values(output_key=None, source_key=None)
            .execution_options(synchronize_session=False))
        db.session.commit()
        if rowcount(marked) != 1:
            continue
        upload_ids = db.session.execute(select(UploadSession.id).where(
            UploadSession.asset_id == asset_id, UploadSession.status != "open")).scalars().all()
        keys, freed = _remove_asset_files(asset_id, stored_output_key, source_key, upload_ids)
        log.info("removed the files of %s asset %s of lesson %s (%s bytes): %s",
                 "replaced" if status == "ready" else "failed", asset_id, lesson_id, freed, ", ".join(keys))
        removed.append(asset_id)
    return removed


def _remove_asset_files(asset_id: int, stored_output_key: str | None, source_key: str | None,
                        upload_ids: Sequence[str]) -> tuple[list[str], int]:
    """Delete the asset's own output, work directories and upload directories; returns (keys, bytes freed)."""
    storage = get_storage()
    own_output = output_key(asset_id)
    if stored_output_key is not None and re.fullmatch(rf"{re.escape(own_output)}-e\d+", stored_output_key):
        own_output = stored_output_key  # its encrypted conversion (encrypt_existing_asset)
    if stored_output_key not in (None, own_output):
        log.warning("asset %s names output %r, not its own %r: that is left alone", asset_id, stored_output_key,
                    own_output)
    keys = [own_output]
    for upload_id in upload_ids:
        if _UPLOAD_ID_RE.match(upload_id):
            keys.append(uploads.upload_dir(upload_id))
    if source_key and not any(source_key.startswith(f"{key}/") for key in keys[1:]):
        log.warning("asset %s: source %r is not in one of its upload directories: left alone", asset_id,
                    source_key)
    removed, freed = [], 0
    for key in keys:
        try:
            path = storage.path(key)
            if not path.exists():
                continue
            size = _tree_size(path)
            storage.delete(key)
        except (OSError, StorageKeyError) as exc:
            log.warning("asset %s: could not remove %s: %s", asset_id, key, exc)
            continue
        if path.exists():
            log.warning("asset %s: %s is still there after removing it", asset_id, key)
            continue
        removed.append(key)
        freed += size
    _remove_partial_output(asset_id)
    return removed, freed


def _tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# ---------------------------------------------------------------- state for the studio


def latest_asset(lesson: Lesson) -> MediaAsset | None:
    """The lesson's newest asset (maybe still uploading or transcoding), else None."""
    return db.session.execute(select(MediaAsset).where(MediaAsset.lesson_id == lesson.id)
                              .order_by(MediaAsset.id.desc()).limit(1)).scalar_one_or_none()


def asset_state(asset: MediaAsset) -> dict:
    """Status, percent and error as the studio's poll shows them."""
    percent = 100 if asset.status == "ready" else int(asset.progress * 100) if asset.status == "transcoding" else 0
    return {"id": asset.id, "status": asset.status, "progress": percent, "error": asset.error,
            "lesson_id": asset.lesson_id, "current": asset.lesson.asset_id == asset.id}


def studio_asset(user: User, asset_id: int) -> MediaAsset:
    """An asset of a course ``user`` manages; NotFound otherwise."""

    asset = db.session.get(MediaAsset, asset_id)
    if asset is None:
        raise NotFound(_("视频不存在。"))
    courses.studio_lesson(user, asset.lesson_id)
    return asset


# ---------------------------------------------------------------- subtitles


def _subtitle_key(lesson_id: int, lang: str) -> str:
    return f"subtitles/{lesson_id}/{lang}.vtt"


def add_subtitle(user: User, lesson: Lesson, data: bytes, filename: str, lang: str = "zh-CN") -> Subtitle:
    """Store an uploaded .srt/.vtt (UTF-8 or GB18030) as WebVTT; publish it on the lesson's ready video."""
    courses.check_editable(user, lesson.course)
    if lang not in SUBTITLE_LANGUAGES:
        raise ServiceError(_("不支持的字幕语言。"), "bad_language")
    try:
        webvtt = subtitles_to_webvtt(data, filename or "")
        if not parse_cues(webvtt):
            raise SubtitleError("no cues")
    except SubtitleError as exc:
        raise ServiceError(_("字幕文件无法使用：%(reason)s", reason=exc.reason), "bad_subtitles") from exc
    key = _subtitle_key(lesson.id, lang)
    target = get_storage().path(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(webvtt, encoding="utf-8")
    tmp.replace(target)
    subtitle = db.session.execute(select(Subtitle).where(Subtitle.lesson_id == lesson.id, Subtitle.lang == lang)
                                  ).scalar_one_or_none()
    if subtitle is None:
        subtitle = Subtitle(lesson_id=lesson.id, lang=lang, storage_key=key)
        db.session.add(subtitle)
    subtitle.label = str(SUBTITLE_LANGUAGES[lang])
    subtitle.storage_key = key
    db.session.commit()
    search_tasks.index_lesson.enqueue(lesson.id)  # its cues become searchable
    if lesson.asset is not None and lesson.asset.status == "ready":
        media_tasks.attach_subtitles.enqueue(lesson.asset.id)
    return subtitle


def _publish_subtitle(out_dir: Path, subtitle: Subtitle) -> None:
    try:
        text = get_storage().path(subtitle.storage_key).read_text(encoding="utf-8")
        add_subtitle_track(out_dir, text, lang=subtitle.lang, name=subtitle.label)
    except (OSError, SubtitleError) as exc:
        log.warning("subtitle %s not published on %s: %s", subtitle.id, out_dir, exc)


def attach_subtitles(asset_id: int) -> None:
    """Add every subtitle of the asset's lesson to its published HLS output (the job ``attach_subtitles``)."""
    asset = db.session.get(MediaAsset, asset_id)
    if asset is None or asset.status != "ready" or not asset.output_key:
        return
    out_dir = get_storage().path(asset.output_key)
    for subtitle in asset.lesson.subtitles:
        _publish_subtitle(out_dir, subtitle)


def subtitle_cues(lesson: Lesson) -> list[tuple[float, float, str]]:
    """The lesson's subtitle cues as (start_s, end_s, text), Chinese preferred; [] without subtitles."""
    subtitles = sorted(lesson.subtitles, key=lambda s: (s.lang != "zh-CN", s.lang))
    if not subtitles:
        return []
    try:
        text = get_storage().path(subtitles[0].storage_key).read_text(encoding="utf-8")
        return [(cue.start_s, cue.end_s, cue.text) for cue in parse_cues(text)]
    except (OSError, SubtitleError):
        return []


# ---------------------------------------------------------------- serving


def _rendition(asset: MediaAsset, playlist_name: str) -> dict | None:
    for rendition in asset.renditions or ():
        if playlist_name in (rendition["name"], rendition["playlist"]):
            return rendition
    return None


def segment_times(asset: MediaAsset, playlist_name: str) -> list[tuple[int, float, float]]:
    """(index, start_s, end_s) of each segment of a rendition, by name ("720p") or playlist ("720p/index.m3u8").

    Read from ``asset.renditions`` (written when the asset became ready), else parsed from the playlist.
    """
    rendition = _rendition(asset, playlist_name)
    if rendition is not None and "segments" in rendition:
        return [(i, start, end) for i, (_uri, start, end) in enumerate(rendition["segments"])]
    if not asset.output_key:
        return []
    playlist = playlist_name if playlist_name.endswith(".m3u8") else f"{playlist_name}/index.m3u8"
    try:
        text = get_storage().path(f"{asset.output_key}/{playlist}").read_text(encoding="utf-8")
    except (OSError, StorageKeyError):
        return []
    times, start = [], 0.0
    for i, segment in enumerate(parse_media_playlist(text).segments):
        times.append((i, round(start, 3), round(start + segment.duration, 3)))
        start += segment.duration
    return times


@dataclass(frozen=True)
class MediaFile:
    """A file of a ready asset that the user may receive."""

    asset: MediaAsset
    key: str
    path: Path
    mimetype: str
    filename: str

    @property
    def is_playlist(self) -> bool:
        return self.filename.endswith(".m3u8")

    @property
    def is_segment(self) -> bool:
        return self.filename.endswith(SEGMENT_EXTENSIONS)


def media_file(user: User, asset_id: int, filename: str) -> MediaFile:
    """The file ``filename`` of asset ``asset_id`` if ``user`` may watch its lesson; NotFound otherwise.

    Only ready assets, only known file types, never hidden (work) files or anything outside the asset.
    """
    asset = db.session.get(MediaAsset, asset_id)
    if asset is None or asset.status != "ready" or not asset.output_key or not user.is_authenticated:
        raise NotFound(_("视频不存在。"))
    if not catalog.can_view_lesson(user, asset.lesson):
        raise NotFound(_("视频不存在。"))
    found = _asset_file(asset, filename)
    if found is None:
        raise NotFound(_("视频不存在。"))
    return found


def _asset_file(asset: MediaAsset, filename: str) -> MediaFile | None:
    """``filename`` of the asset's output if it is a file of a known type, not hidden and inside the asset."""
    pure = PurePosixPath(filename)
    mimetype = MIME_TYPES.get(pure.suffix.lower())
    if mimetype is None or any(part.startswith(".") for part in pure.parts) or "\\" in filename:
        return None
    key = f"{asset.output_key}/{filename}"
    try:
        path = get_storage().path(key)
    except StorageKeyError:
        return None
    if not _is_file(path):
        return None
    return MediaFile(asset=asset, key=key, path=path, mimetype=mimetype, filename=filename)


def valid_playback_session(value: str | None) -> str | None:
    """The playback-session id if it is well-formed, else None."""
    return value if value and PLAYBACK_SESSION_RE.match(value) else None


def rewrite_playlist(text: str, playback_session: str | None, *, encrypted: bool = False) -> str:
    """Append ``?ps=<id>`` to every URI in a playlist, so that requests carry the playback session.

    For an encrypted asset the segments are shared, cacheable bytes: their URIs stay the same for everyone
    (``?k=1`` tells them apart from the clear segments of before its conversion, in any cache); the keys and
    playlists carry the session."""
    suffix = f"?ps={playback_session}" if playback_session else ""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            if encrypted and stripped.endswith(SEGMENT_EXTENSIONS):
                line = stripped + "?k=1"
            elif suffix:
                line = stripped + suffix
        elif 'URI="' in line and suffix:
            line = re.sub(r'URI="([^"?]+)"', lambda m: f'URI="{m.group(1)}{suffix}"', line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def public_segment(asset_id: int, filename: str) -> MediaFile | None:
    """A segment of an encrypted ready asset, which anyone may fetch (it is ciphertext; the keys are what
    :func:`segment_key_for` guards), else None."""
    asset = db.session.get(MediaAsset, asset_id)
    if asset is None or asset.status != "ready" or not asset.output_key or not asset.key_secret:
        return None
    pure = PurePosixPath(filename)
    if not filename.endswith(SEGMENT_EXTENSIONS) or len(pure.parts) != 2 or _rendition(asset, pure.parts[0]) is None:
        return None
    return _asset_file(asset, filename)


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False too for names the file system refuses (too long, …) rather than an error."""
    try:
        return path.is_file()
    except OSError:
        return False


@dataclass(frozen=True)
class SegmentKey:
    asset: MediaAsset
    index: int
    key: bytes
    start_s: float
    end_s: float


def segment_key_for(user: User, asset_id: int, index: int) -> SegmentKey:
    """The AES key of segment ``index`` of an encrypted asset, for a member who may watch its lesson;
    NotFound for anyone else, any other asset and any index it does not have."""
    asset = db.session.get(MediaAsset, asset_id)
    if asset is None or asset.status != "ready" or not asset.key_secret or not user.is_authenticated \
            or not catalog.can_view_lesson(user, asset.lesson):
        raise NotFound(_("视频不存在。"))
    renditions = asset.renditions or []
    times = segment_times(asset, renditions[0]["name"]) if renditions else []
    if not 0 <= index < len(times):
        raise NotFound(_("视频不存在。"))
    _i, start, end = times[index]
    return SegmentKey(asset=asset, index=index, key=segment_key(bytes.fromhex(asset.key_secret), index),
                      start_s=start, end_s=end)


def record_key_delivery(user: User, found: SegmentKey, playback_session: str | None) -> bool:
    """The key of a segment went out whole to ``user``'s playback session: that is the evidence that its
    stretch of media can play there (see elearn.study)."""
    return study.record_segment_delivery(user, found.asset, KEYS_DIR, found.index, found.start_s, found.end_s,
                                         playback_session)


# ---------------------------------------------------------------- converting assets of before encryption

def assets_to_encrypt() -> list[int]:
    """Ready assets whose segments are still in the clear."""
    return list(db.session.execute(select(MediaAsset.id).where(
        MediaAsset.status == "ready", MediaAsset.key_secret.is_(None), MediaAsset.output_key.is_not(None))
        .order_by(MediaAsset.id)).scalars())


def encrypt_existing_asset(asset_id: int, on_progress=None) -> bool:
    """Encrypt the segments of an asset transcoded before encryption. It stays playable throughout: a copy
    is encrypted beside it, then one commit switches the asset to the copy (secret and folder together) and
    the clear folder goes. Watched time is kept: evidence then comes from keys, recorded in the same
    per-session, per-segment rows, so nothing is credited twice. Returns False when there was nothing to do.
    """
    asset = db.session.get(MediaAsset, asset_id)
    if asset is None or asset.status != "ready" or asset.key_secret or not asset.output_key:
        return False
    storage = get_storage()
    old_key = asset.output_key
    old_dir = storage.path(old_key)
    new_key = f"{output_key(asset_id)}-e{time.time_ns()}"
    work = storage.path(new_key)
    secret = new_secret()
    names = [r["name"] for r in asset.renditions or []]
    try:
        shutil.copytree(old_dir, work)
        first = parse_media_playlist((work / names[0] / "index.m3u8").read_text(encoding="utf-8"))
        write_timeline(work, segment_start_time(work / names[0] / first.segments[0].uri))
        encrypt_asset_dir(work, names, secret, on_progress=on_progress)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    claimed = rowcount(db.session.execute(update(MediaAsset).where(
        MediaAsset.id == asset_id, MediaAsset.key_secret.is_(None), MediaAsset.output_key == old_key,
    ).values(key_secret=secret.hex(), output_key=new_key)))
    if claimed != 1:  # converted by another worker meanwhile, or replaced
        db.session.rollback()
        shutil.rmtree(work, ignore_errors=True)
        return False
    db.session.commit()
    shutil.rmtree(old_dir, ignore_errors=True)
    return True


def record_delivery(user: User, file: MediaFile, playback_session: str | None) -> bool:
    """Tell the study-hours service that a segment went to ``user`` in ``playback_session``.

    Returns True when recorded (the segment is one of a known rendition).
    """
    if not file.is_segment:
        return False
    parts = PurePosixPath(file.filename).parts
    if len(parts) != 2:
        return False
    rendition_name, uri = parts
    rendition = _rendition(file.asset, rendition_name)
    if rendition is None:
        return False
    found = next(((i, start, end) for i, (seg_uri, start, end) in enumerate(rendition.get("segments", ()))
                  if seg_uri == uri), None)
    if found is None:
        return False
    index, start, end = found
    study.record_segment_delivery(user, file.asset, rendition_name, index, start, end, playback_session)
    return True


# ---------------------------------------------------------------- starting playback (the page and the API)

def has_listen_rendition(asset: MediaAsset) -> bool:
    """The asset is a video with an audio-only rendition to listen to (``listen.m3u8``). Assets transcoded before
    the pipeline made one have none: their player offers no "仅听音频" toggle."""
    return bool(asset.has_video) and _rendition(asset, AUDIO_RENDITION_NAME) is not None


def _start_at(at: float | None, duration: float | None) -> float | None:
    """A requested start (a search hit's ``?t=``), clipped to the media; None when absent or not a number."""
    if at is None or not math.isfinite(at) or at < 0:
        return None
    return min(at, duration) if duration else at


def lesson_player(user: User, lesson: Lesson, start_at: float | None = None) -> dict | None:
    """What a player needs to play ``lesson`` for ``user`` (who may view it), or None without ready media.

    A fresh playback-session id (``ps``) each time: every playlist, key and report of this playback carries it,
    and only keys sent to it are evidence for crediting (:func:`record_key_delivery`). ``listen_src`` (empty
    without one) is the audio-only playlist of the same playback: its segments are cut where the video's are
    and use the same keys, so listening is evidenced, paced and credited exactly as watching, and a key fetched
    for either counts once. The lesson page and the
    ``/api/v1/lessons/<id>`` call both start playback here, so both play under the same rules."""
    asset = lesson.asset if lesson.asset is not None and lesson.asset.status == "ready" else None
    if asset is None:
        return None
    ps = str(uuid.uuid4())

    def media_url(name: str) -> str:
        return url_for("media.media_file", asset_id=asset.id, filename=name, ps=ps)

    max_rate = current_app.config["ELEARN_MAX_PLAYBACK_RATE"]
    return {
        "src": media_url(MASTER_PLAYLIST),
        "listen_src": media_url(LISTEN_PLAYLIST_NAME) if has_listen_rendition(asset) else "",
        "poster": media_url("poster.jpg") if asset.has_video else "",
        "storyboard": media_url("storyboard.vtt") if asset.has_video else "",
        "ps": ps, "resume": float(study.lesson_progress(user, lesson).position or 0.0),
        "start_at": _start_at(start_at, asset.duration_s), "duration": asset.duration_s or 0,
        "rates": [r for r in PLAYBACK_RATES if r <= max_rate],
        "progress_url": f"/api/v1/lessons/{lesson.id}/progress",
    }
