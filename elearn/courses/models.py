"""Courses, their lessons, and the series they are published in (to sectors, organisations and categories)."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Base
from elearn.orgs.models import User

if TYPE_CHECKING:  # the media domain's models refer back to lessons
    from elearn.media.models import MediaAsset, Subtitle

# Course review states: a lecturer drafts and submits; a site admin approves or returns with comments.
COURSE_STATUSES = ("draft", "in_review", "approved", "returned")


class Course(Base):
    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitised when rendered
    category: Mapped[str] = mapped_column(String(40))  # policy.CONTENT_CATEGORIES
    innovative_theory: Mapped[bool] = mapped_column(default=False)  # counts toward the ≥50 % theory share
    # 防挂机: the player is asked at random moments to show a prompt; time after an unanswered one earns nothing.
    attention_checks: Mapped[bool] = mapped_column(default=False, server_default="0")
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
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="course", order_by="Lesson.position", cascade="all, delete-orphan")


class Lesson(Base):
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
    asset: Mapped[MediaAsset | None] = relationship(foreign_keys=[asset_id], post_update=True)
    subtitles: Mapped[list[Subtitle]] = relationship(back_populates="lesson", cascade="all, delete-orphan")

    @property
    def duration_s(self) -> float | None:
        return self.asset.duration_s if self.asset is not None and self.asset.status == "ready" else None


class Series(Base):
    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(default=False)
    opens_on: Mapped[date | None]
    due_on: Mapped[date | None]
    published: Mapped[bool] = mapped_column(default=False, index=True)
    published_at: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    items: Mapped[list[SeriesCourse]] = relationship(
        back_populates="series", order_by="SeriesCourse.position", cascade="all, delete-orphan")
    targets: Mapped[list[SeriesTarget]] = relationship(back_populates="series", cascade="all, delete-orphan")


class SeriesCourse(Base):
    __tablename__ = "series_course"
    __table_args__ = (UniqueConstraint("series_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    series: Mapped[Series] = relationship(back_populates="items")
    course: Mapped[Course] = relationship()


class SeriesTarget(Base):
    """One audience of a series. A member is in the audience when any sector/organisation target matches
    (an org target with ``include_subtree`` matches its whole subtree) and, if the series names member
    categories, their category is one of them."""

    __tablename__ = "series_target"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "sector", "organisation", "category"
    sector: Mapped[str | None] = mapped_column(String(40))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    include_subtree: Mapped[bool] = mapped_column(default=True)
    member_category: Mapped[str | None] = mapped_column(String(30))

    series: Mapped[Series] = relationship(back_populates="targets")


class MyCourse(Base):
    """An elective a member added to "my courses" (我的课程) from the catalog (elearn.courses.my_courses)."""

    __tablename__ = "my_course"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    added_at: Mapped[datetime]
