"""Series (专题): ordered courses published to audiences — sectors, organisations, member categories."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import db
from elearn.models.course import Course


class Series(db.Model):
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

    items: Mapped[list["SeriesCourse"]] = relationship(
        back_populates="series", order_by="SeriesCourse.position", cascade="all, delete-orphan")
    targets: Mapped[list["SeriesTarget"]] = relationship(back_populates="series", cascade="all, delete-orphan")


class SeriesCourse(db.Model):
    __tablename__ = "series_course"
    __table_args__ = (UniqueConstraint("series_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    series: Mapped[Series] = relationship(back_populates="items")
    course: Mapped[Course] = relationship()


class SeriesTarget(db.Model):
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
