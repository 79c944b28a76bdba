"""Media assets (one upload and what the pipeline made of it), resumable uploads in progress, and subtitles."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.courses.models import Lesson
from elearn.extensions import Base

# Media asset states, in order of a normal life.
ASSET_STATUSES = ("uploading", "queued", "transcoding", "ready", "failed")


class MediaAsset(Base):
    """One uploaded source and what the pipeline made of it, under storage ``media/<id>/``."""

    __tablename__ = "media_asset"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(20), default="uploading", index=True)
    progress: Mapped[float] = mapped_column(default=0.0)  # 0..1 while transcoding
    error: Mapped[str | None] = mapped_column(Text)
    # Both keys are cleared when the media sweep removes the files of an asset no lesson plays any more
    # (elearn.media.services.remove_unused_asset_files); the status stays what it was.
    source_key: Mapped[str | None] = mapped_column(String(300))
    source_name: Mapped[str] = mapped_column(String(300), default="")
    source_size: Mapped[int] = mapped_column(BigInteger, default=0)
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    output_key: Mapped[str | None] = mapped_column(String(300))  # "media/<id>" once ready
    duration_s: Mapped[float | None]
    has_video: Mapped[bool] = mapped_column(default=True)
    # [{"name", "width", "height", "bandwidth", "playlist"}] and the segment list, from the pipeline.
    renditions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    segment_seconds: Mapped[float | None]
    # Hex of the per-asset secret its segment keys derive from (media_pipeline.encrypt); None for an asset
    # transcoded before segments were encrypted (its segments themselves are the evidence until converted).
    key_secret: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    # Written (UTC) by the worker while it transcodes; a stale one means the worker died mid-job.
    heartbeat_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    lesson: Mapped[Lesson] = relationship(foreign_keys=[lesson_id])


class UploadSession(Base):
    """A resumable, chunked upload: the client sends ranges; the server appends them in order."""

    __tablename__ = "upload_session"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("media_asset.id"), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))  # expected, as announced by the client
    storage_key: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, complete, aborted
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class Subtitle(Base):
    __tablename__ = "subtitle"
    __table_args__ = (UniqueConstraint("lesson_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    lang: Mapped[str] = mapped_column(String(20), default="zh-CN")
    label: Mapped[str] = mapped_column(String(50), default="中文")
    storage_key: Mapped[str] = mapped_column(String(300))  # WebVTT
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    lesson: Mapped[Lesson] = relationship(back_populates="subtitles")
