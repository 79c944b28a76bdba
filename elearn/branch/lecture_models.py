"""Party lectures (党课开讲啦): a branch's recorded 党课, its course and lesson, and its way to 优秀党课.

A lecture owns one course with one lesson (the recording goes through the ordinary upload and transcoding
pipeline) and the series that publishes it to its branch. A committee above the branch nominates it and may
showcase it for a year, publishing it through a second series to the committee's whole subtree.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.courses.models import Course, Lesson, Series
from elearn.extensions import Base
from elearn.orgs.models import Organisation, User

# recorded → nominated (by a committee above the branch) → showcased (优秀党课 of a year)
LECTURE_STATUSES = ("recorded", "nominated", "showcased")


class PartyLecture(Base):
    __tablename__ = "party_lecture"
    __table_args__ = (Index("ix_party_lecture_status_year", "status", "showcase_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    speaker_name: Mapped[str] = mapped_column(String(100))
    # The roster's lecturer when the speaker is one (elearn.training.models.Lecturer).
    lecturer_id: Mapped[int | None] = mapped_column(ForeignKey("lecturer.id"))
    given_on: Mapped[date]
    # The branch meeting the lecture was given at (elearn.branch.meeting_models, when present); optional.
    meeting_id: Mapped[int | None]
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), unique=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"))
    branch_series_id: Mapped[int] = mapped_column(ForeignKey("series.id"))
    status: Mapped[str] = mapped_column(String(20), default="recorded")
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    nominated_at: Mapped[datetime | None]
    showcased_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    showcase_year: Mapped[int | None]
    # The committee whose subtree the showcase is published to, and the series doing it.
    showcase_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    showcase_series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    course: Mapped[Course] = relationship()
    lesson: Mapped[Lesson] = relationship()
    branch_series: Mapped[Series] = relationship(foreign_keys=[branch_series_id])
    showcase_series: Mapped[Series | None] = relationship(foreign_keys=[showcase_series_id])
    showcase_organisation: Mapped[Organisation | None] = relationship(foreign_keys=[showcase_organisation_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
