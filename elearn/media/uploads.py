"""Resumable, chunked uploads of lesson videos.

A lecturer announces a file (name, size, optional SHA-256); the client then sends byte ranges in order. Each
range is appended to ``uploads/<session>/source.part`` in storage straight from the request stream, so a
file of several GB never sits in memory. The length of that file is the truth about how much arrived: a
client that lost its connection asks for the offset and continues from there; a range that does not start
at that offset is refused (409) with the offset to resume from. When the last byte is in, the size and the
checksum are verified, the file is renamed and the transcode job is queued.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import IO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from elearn import clock
from elearn.courses import services as courses
from elearn.courses.models import Lesson
from elearn.errors import Conflict, NotFound, OutOfSpace, ServiceError, TooLarge
from elearn.extensions import db, existing
from elearn.media import tasks as media_tasks
from elearn.media.models import MediaAsset, UploadSession
from elearn.orgs.models import User
from elearn.policy import UPLOAD_SESSION_MAX_AGE_S
from elearn.storage import get_storage

READ_SIZE = 1 << 20
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
EXTENSION_RE = re.compile(r"^\.[a-z0-9]{1,8}$")
FILENAME_MAX = 300
UPLOADS_PREFIX = "uploads"


class OffsetMismatch(Conflict):
    """The client sent a range that does not continue the file; ``offset`` is where to resume."""

    def __init__(self, offset: int):
        super().__init__(_("上传位置不一致，请从第 %(offset)s 字节继续。", offset=offset), "offset_mismatch")
        self.offset = offset


class StorageFull(OutOfSpace):
    """The disk filled up while a chunk was written; the chunk was dropped and ``offset`` is where to resume."""

    def __init__(self, offset: int):
        super().__init__(_("磁盘空间不足，上传已暂停。请稍后从第 %(offset)s 字节继续上传。", offset=offset),
                         "disk_full")
        self.offset = offset


# No space left on the device, or the user's quota is used up.
_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def max_upload_bytes() -> int:
    return current_app.config["ELEARN_MAX_UPLOAD_MB"] * 1024 * 1024


def chunk_bytes() -> int:
    """The chunk size clients are told to use; must stay below MAX_CONTENT_LENGTH."""
    return min(current_app.config["ELEARN_UPLOAD_CHUNK_MB"] * 1024 * 1024,
               current_app.config.get("MAX_CONTENT_LENGTH") or (1 << 62))


def _clean_filename(filename: str) -> str:
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    if not name:
        raise ServiceError(_("缺少文件名。"), "filename_required")
    return name[-FILENAME_MAX:]


def upload_dir(upload_id: str) -> str:
    """The storage key of the directory holding everything of one upload session (part file, then source)."""
    return f"{UPLOADS_PREFIX}/{upload_id}"


def _source_key(upload_id: str, filename: str) -> str:
    ext = PurePosixPath(filename).suffix.lower()
    return f"{upload_dir(upload_id)}/source{ext if EXTENSION_RE.match(ext) else ''}"


def create_upload(user: User, lesson: Lesson, *, filename: str, size: int, sha256: str | None = None
                  ) -> UploadSession:
    """Open an upload of a new video for ``lesson`` (or return the open one of the same file, to resume).

    A new upload replaces the user's other open uploads for the lesson. The lesson keeps playing its current
    video until the new one is transcoded.
    """
    courses.video_upload_course(user, lesson.course_id)
    filename = _clean_filename(filename)
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise ServiceError(_("文件大小无效。"), "bad_size")
    if size > max_upload_bytes():
        raise TooLarge(_("文件过大：上限为 %(mb)s MB。", mb=current_app.config["ELEARN_MAX_UPLOAD_MB"]),
                           "too_large")
    sha256 = (sha256 or "").strip().lower() or None
    if sha256 is not None and not SHA256_RE.match(sha256):
        raise ServiceError(_("SHA-256 校验值格式不正确。"), "bad_checksum")

    open_ones = db.session.execute(
        select(UploadSession).join(MediaAsset, MediaAsset.id == UploadSession.asset_id)
        .where(UploadSession.user_id == user.id, UploadSession.status == "open",
               MediaAsset.lesson_id == lesson.id)).scalars().all()
    for other in open_ones:
        if other.filename == filename and other.size == size and other.sha256 == sha256:
            return other
    for other in open_ones:
        _abort(other, _("已被新的上传取代。"))

    asset = MediaAsset(lesson_id=lesson.id, uploaded_by_id=user.id, status="uploading", source_name=filename,
                       source_size=size, source_sha256=sha256)
    db.session.add(asset)
    db.session.flush()
    upload_id = secrets.token_urlsafe(18)
    upload = UploadSession(id=upload_id, user_id=user.id, asset_id=asset.id, filename=filename, size=size,
                           sha256=sha256, storage_key=f"{upload_dir(upload_id)}/source.part", received=0)
    db.session.add(upload)
    part = get_storage().path(upload.storage_key)
    part.parent.mkdir(parents=True, exist_ok=True)
    part.touch()
    db.session.commit()
    return upload


def get_upload(user: User, upload_id: str) -> UploadSession:
    """The user's own upload session; NotFound for anyone else's (ids are unguessable anyway)."""
    upload = db.session.get(UploadSession, upload_id) if isinstance(upload_id, str) else None
    if upload is None or upload.user_id != user.id:
        raise NotFound(_("上传不存在或已过期。"))
    return upload


def current_offset(upload: UploadSession) -> int:
    """How many bytes have arrived: the length of the part file (the database copy may lag a crash)."""
    if upload.status != "open":
        return upload.received
    try:
        return get_storage().path(upload.storage_key).stat().st_size
    except FileNotFoundError:
        return 0


def append_chunk(user: User, upload: UploadSession, offset: int, stream: IO[bytes]) -> UploadSession:
    """Append the bytes of ``stream`` at ``offset``; finish the upload when the last byte has arrived.

    Raises:
        OffsetMismatch: ``offset`` is not where the file ends now (409, with the offset to resume from).
        ServiceError: the upload is closed, or the chunk goes past the announced size.
    """
    if upload.status != "open":
        raise Conflict(_("该上传已结束。"), "upload_closed")
    lesson = existing(Lesson, existing(MediaAsset, upload.asset_id).lesson_id)
    courses.video_upload_course(user, lesson.course_id)
    path = get_storage().path(upload.storage_key)
    # Unbuffered: every byte is either on disk or reported as an error, never held back in a buffer that a
    # full disk would make fail again on close.
    with open(path, "ab", buffering=0) as out:
        # One writer per file: two tabs sending the same range must not both append it.
        fcntl.flock(out.fileno(), fcntl.LOCK_EX)
        try:
            end = os.fstat(out.fileno()).st_size
            if offset != end:
                raise OffsetMismatch(end)
            try:
                try:
                    while piece := stream.read(READ_SIZE):
                        if end + len(piece) > upload.size:
                            out.truncate(offset)
                            raise ServiceError(_("上传的数据超过了声明的文件大小。"), "too_much_data")
                        view = memoryview(piece)
                        while view:
                            written = out.write(view)
                            view = view[written:]
                            end += written
                finally:
                    # Whatever arrived before a dropped connection stays; the client resumes after it.
                    os.fsync(out.fileno())
            except OSError as exc:
                if exc.errno not in _DISK_FULL_ERRNOS:
                    raise
                # Drop the whole chunk: the file ends where the client's last acknowledged chunk ended, and
                # the space this chunk took is free again.
                os.ftruncate(out.fileno(), offset)
                raise StorageFull(offset) from exc
        finally:
            fcntl.flock(out.fileno(), fcntl.LOCK_UN)
    upload.received = end
    db.session.commit()
    if end == upload.size:
        _finish(upload)
    return upload


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while piece := fh.read(READ_SIZE):
            digest.update(piece)
    return digest.hexdigest()


def _finish(upload: UploadSession) -> None:
    """Verify the complete file; queue the transcode, or fail the upload and remove the file."""
    storage = get_storage()
    asset = existing(MediaAsset, upload.asset_id)
    part = storage.path(upload.storage_key)
    actual = part.stat().st_size
    if actual != upload.size:
        _abort(upload, _("文件大小不一致：声明 %(size)s 字节，收到 %(actual)s 字节。", size=upload.size, actual=actual),
               status="failed")
        db.session.commit()
        return
    if upload.sha256 is not None and _sha256_of(part) != upload.sha256:
        _abort(upload, _("校验失败：文件内容与 SHA-256 校验值不符，请重新上传。"), status="failed")
        db.session.commit()
        return
    source_key = _source_key(upload.id, upload.filename)
    os.replace(part, storage.path(source_key))
    upload.storage_key = source_key
    upload.status = "complete"
    asset.source_key = source_key
    asset.status = "queued"
    asset.heartbeat_at = clock.now_utc()
    db.session.commit()
    media_tasks.transcode_asset.enqueue(asset.id)


def _abort(upload: UploadSession, reason: str, status: str = "aborted") -> None:
    """Close ``upload`` (not committed), remove its files and mark its asset failed with ``reason``."""
    # The whole directory, not only the part file: an empty ``uploads/<id>/`` would otherwise stay for ever.
    get_storage().delete(upload_dir(upload.id))
    upload.status = status
    asset = db.session.get(MediaAsset, upload.asset_id)
    if asset is not None and asset.status == "uploading":
        asset.status = "failed"
        asset.error = reason


def abort_upload(user: User, upload: UploadSession) -> None:
    """The lecturer cancels an open upload."""
    if upload.status != "open":
        raise Conflict(_("该上传已结束。"), "upload_closed")
    _abort(upload, _("上传已取消。"))
    db.session.commit()


def expire_old_uploads(now: datetime | None = None) -> int:
    """Abort uploads left open longer than the policy allows; returns how many."""
    cutoff = (now or clock.now_utc()) - timedelta(seconds=UPLOAD_SESSION_MAX_AGE_S)
    old = db.session.execute(select(UploadSession).where(
        UploadSession.status == "open", UploadSession.updated_at < cutoff)).scalars().all()
    for upload in old:
        _abort(upload, _("上传长时间未完成，已过期。"))
    db.session.commit()
    return len(old)


def describe(upload: UploadSession) -> dict:
    """The JSON the studio's upload client reads."""
    return {"id": upload.id, "asset_id": upload.asset_id, "filename": upload.filename, "size": upload.size,
            "offset": current_offset(upload), "status": upload.status, "chunk_size": chunk_bytes()}
