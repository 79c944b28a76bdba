"""Study evidence: playback sessions, the segments delivered to each, watched intervals and reading time."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from elearn.extensions import Base


class PlaybackSession(Base):
    """One player (or reader) instance on one device, identified by a client-generated UUID.

    Registered by the first segment it fetches or the first report it sends, whichever comes first. ``last_seq``
    makes reports idempotent: a report whose ``seq`` is not above it changes nothing.
    """

    __tablename__ = "playback_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lesson.id"), index=True)
    reading_id: Mapped[int | None] = mapped_column(ForeignKey("reading.id"), index=True)
    started_at: Mapped[datetime]
    last_seq: Mapped[int] = mapped_column(default=-1)
    last_report_at: Mapped[datetime | None]
    # Media or reading seconds credited through this session (a reading session: never more than it has been
    # open, elearn.study.services).
    credited_s: Mapped[float] = mapped_column(default=0.0, server_default="0")
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class StudyClock(Base):
    """A member's one wall-clock budget, drawn on by every lesson, reading, device and tab at once.

    ``budget_s`` is unspent credit in media seconds (never above the policy allowance once spent), refilled at
    the maximum rate per wall-clock second since ``budget_at``. A media second costs one, a reading second
    the maximum rate: however many things a member has open, credited time never exceeds the time that
    passed × the maximum rate plus the allowance."""

    __tablename__ = "study_clock"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    budget_s: Mapped[float] = mapped_column(default=0.0)
    budget_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class ReportRefusal(Base):
    """How often a member's progress reports were refused or cut short, per reason (policy.REPORT_REFUSALS)."""

    __tablename__ = "report_refusal"
    __table_args__ = (UniqueConstraint("user_id", "reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[datetime]


class SegmentDelivery(Base):
    """Evidence that the app served one HLS segment of an asset to one playback session."""

    __tablename__ = "segment_delivery"
    # Per asset too: a lesson whose video is replaced mid-session gets evidence for the new one. A report reads
    # its session's evidence (elearn.study.services, the lean path) in index ranges of one session, whatever the
    # audience of the video: the claimed segments by the unique key's segment index, and the others' credit
    # summed per delivery time from the evidence index alone, which holds every column that sum reads.
    __table_args__ = (UniqueConstraint("session_id", "asset_id", "segment_index"),
                      Index("ix_segment_delivery_session_evidence", "session_id", "asset_id", "delivered_at",
                            "segment_index", "credited_s"))

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("playback_session.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("media_asset.id"), index=True)
    rendition: Mapped[str] = mapped_column(String(40))
    segment_index: Mapped[int]
    start_s: Mapped[float]
    end_s: Mapped[float]
    delivered_at: Mapped[datetime]
    credited_s: Mapped[float] = mapped_column(default=0.0, server_default="0")  # media credited from it


class WatchProgress(Base):
    """A member's progress on one lesson: the union of watched media intervals and the resume position, shared
    by all of the member's devices (the time budget is the member's StudyClock)."""

    __tablename__ = "watch_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("media_asset.id"))
    intervals: Mapped[list[list[float]]] = mapped_column(JSON, default=list)
    watched_s: Mapped[float] = mapped_column(default=0.0)
    position_s: Mapped[float] = mapped_column(default=0.0)
    # Attention checks (courses that ask for them), per member and lesson whatever the device or session: the
    # open prompt (None: none), when it was asked and last answered, the watched seconds the next is due at.
    attention_token: Mapped[str | None] = mapped_column(String(32))
    attention_at: Mapped[datetime | None]
    attention_answered_at: Mapped[datetime | None]
    attention_due_s: Mapped[float | None]
    attention_credited_s: Mapped[float] = mapped_column(default=0.0, server_default="0")  # since the answer
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class ReadingProgress(Base):
    """Active reading time of a member on a reading (shared across the courses it is attached to)."""

    __tablename__ = "reading_progress"
    __table_args__ = (UniqueConstraint("user_id", "reading_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    reading_id: Mapped[int] = mapped_column(ForeignKey("reading.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))  # the course it was read through
    active_s: Mapped[float] = mapped_column(default=0.0)
    position: Mapped[float] = mapped_column(default=0.0)  # 0..1 scroll fraction, for resuming
    completed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
