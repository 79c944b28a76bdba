"""Courses, their lessons, the media assets lessons play, uploads in progress and subtitles."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import db
from elearn.models.user import User

# Course review states: a lecturer drafts and submits; a site admin approves or returns with comments.
COURSE_STATUSES = ("draft", "in_review", "approved", "returned")
# Media asset states, in order of a normal life.
ASSET_STATUSES = ("uploading", "queued", "transcoding", "ready", "failed")


class Course(db.Model):
    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitised when rendered
    category: Mapped[str] = mapped_column(String(40))  # policy.CONTENT_CATEGORIES
    innovative_theory: Mapped[bool] = mapped_column(default=False)  # counts toward the ≥50 % theory share
    # When set, completing the course credits exactly these 学时 instead of time-based hours.
    declared_hours: Mapped[float | None]
    lecturer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    lecturer: Mapped[User] = relationship(foreign_keys=[lecturer_id])
    lessons: Mapped[list["Lesson"]] = relationship(
        back_populates="course", order_by="Lesson.position", cascade="all, delete-orphan")


class Lesson(db.Model):
    __tablename__ = "lesson"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The asset that plays now; replaced only when a new upload is fully transcoded.
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("media_asset.id", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    course: Mapped[Course] = relationship(back_populates="lessons")
    asset: Mapped["MediaAsset | None"] = relationship(foreign_keys=[asset_id], post_update=True)
    subtitles: Mapped[list["Subtitle"]] = relationship(back_populates="lesson", cascade="all, delete-orphan")

    @property
    def duration_s(self) -> float | None:
        return self.asset.duration_s if self.asset is not None and self.asset.status == "ready" else None


class MediaAsset(db.Model):
    """One uploaded source and what the pipeline made of it, under storage ``media/<id>/``."""

    __tablename__ = "media_asset"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(20), default="uploading", index=True)
    progress: Mapped[float] = mapped_column(default=0.0)  # 0..1 while transcoding
    error: Mapped[str | None] = mapped_column(Text)
    # Both keys are cleared when the media sweep removes the files of an asset no lesson plays any more
    # (elearn.services.media.remove_unused_asset_files); the status stays what it was.
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
    attempts: Mapped[int] = mapped_column(default=0)
    # Written (UTC) by the worker while it transcodes; a stale one means the worker died mid-job.
    heartbeat_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    lesson: Mapped[Lesson] = relationship(foreign_keys=[lesson_id])


class UploadSession(db.Model):
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


class Subtitle(db.Model):
    __tablename__ = "subtitle"
    __table_args__ = (UniqueConstraint("lesson_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    lang: Mapped[str] = mapped_column(String(20), default="zh-CN")
    label: Mapped[str] = mapped_column(String(50), default="中文")
    storage_key: Mapped[str] = mapped_column(String(300))  # WebVTT
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    lesson: Mapped[Lesson] = relationship(back_populates="subtitles")
