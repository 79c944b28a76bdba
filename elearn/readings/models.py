"""Readings (books of selected works, documents) attached to courses."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Base


class Reading(Base):
    __tablename__ = "reading"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    source_kind: Mapped[str] = mapped_column(String(20), default="document")  # "book", "document"
    filename: Mapped[str] = mapped_column(String(300))
    source_key: Mapped[str] = mapped_column(String(300))  # the uploaded file
    parsed_key: Mapped[str | None] = mapped_column(String(300))  # normalised JSON from content.parse_reading
    chars: Mapped[int] = mapped_column(default=0)
    estimated_minutes: Mapped[float] = mapped_column(default=0.0)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CourseReading(Base):
    __tablename__ = "course_reading"
    __table_args__ = (UniqueConstraint("course_id", "reading_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    reading_id: Mapped[int] = mapped_column(ForeignKey("reading.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    reading: Mapped[Reading] = relationship()


class ReadingPosition(Base):
    """Where a user last was in a reading: the id of the paragraph at the top of their screen."""

    __tablename__ = "reading_position"
    __table_args__ = (UniqueConstraint("user_id", "reading_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    reading_id: Mapped[int] = mapped_column(ForeignKey("reading.id"), index=True)
    paragraph_id: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
