"""Organisational-life meetings (三会一课, 主题党日, 组织生活会 …) of a branch: the record, who attended, its files.

A meeting is scheduled, then held (closed by the secretary: present members of a crediting kind are credited)
or cancelled. Attendance is one row per member; the credit a present member got is a :class:`MeetingCredit`
(its id is the ledger source), so a member marked absent after crediting has exactly that credit corrected, and
marked present again gets a new one: never two at a time.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Base
from elearn.orgs.models import Organisation, User

MEETING_STATUSES = ("scheduled", "held", "cancelled")
ATTENDANCE_STATUSES = ("present", "absent", "excused")
ATTENDANCE_METHODS = ("manual", "checkin")


class Meeting(Base):
    __tablename__ = "meeting"
    __table_args__ = (Index("ix_meeting_org_starts", "organisation_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    kind: Mapped[str] = mapped_column(String(20))  # policy.MEETINGS.kinds
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]  # UTC, entered in site time
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    host_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    lecturer_id: Mapped[int | None] = mapped_column(ForeignKey("lecturer.id"))  # the speaker of a 党课/专题讲座
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lesson.id"))  # a recorded lecture
    agenda: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML
    status: Mapped[str] = mapped_column(String(10), default="scheduled", index=True)
    held_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    organisation: Mapped[Organisation] = relationship()
    host: Mapped[User | None] = relationship(foreign_keys=[host_id])


class MeetingCredit(Base):
    """One credit of a present member (the ledger's source ``meeting_credit``); ``reversed_at`` once corrected."""

    __tablename__ = "meeting_credit"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    hours: Mapped[float]
    credited_at: Mapped[datetime]
    reversed_at: Mapped[datetime | None]


class MeetingAttendance(Base):
    __tablename__ = "meeting_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))  # ATTENDANCE_STATUSES
    reason: Mapped[str] = mapped_column(String(300), default="")
    method: Mapped[str] = mapped_column(String(10), default="manual")  # ATTENDANCE_METHODS
    marked_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    marked_at: Mapped[datetime]
    # The member's credit in force for this meeting, if any.
    credit_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_credit.id"))

    meeting: Mapped[Meeting] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class MeetingAttachment(Base):
    __tablename__ = "meeting_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(300))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
