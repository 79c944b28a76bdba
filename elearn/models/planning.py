"""Planning: annual off-job training plans filed by organisations (备案) and the lecturer roster (师资库)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import db
from elearn.models.org import Organisation
from elearn.models.user import PERSONAL, User

# Training plan states: drafted, then filed with the superior committee.
PLAN_STATUSES = ("draft", "filed")
# Lecturer roster states.
LECTURER_STATUSES = ("active", "paused", "retired")


class TrainingPlan(db.Model):
    """An organisation's off-job training plan for one year (one per organisation and year)."""

    __tablename__ = "training_plan"
    __table_args__ = (UniqueConstraint("organisation_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    year: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    filed_at: Mapped[datetime | None]
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    organisation: Mapped[Organisation] = relationship()
    trainings: Mapped[list["PlannedTraining"]] = relationship(
        back_populates="plan", order_by="PlannedTraining.starts_on", cascade="all, delete-orphan")


class PlannedTraining(db.Model):
    """One training of a plan: dates, organiser, hours; participants are assigned to it."""

    __tablename__ = "planned_training"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("training_plan.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    organiser: Mapped[str] = mapped_column(String(200))
    county_level: Mapped[bool] = mapped_column(default=False)  # organised by a committee at county level or above
    starts_on: Mapped[date] = mapped_column(index=True)
    ends_on: Mapped[date] = mapped_column(index=True)
    hours: Mapped[float]
    location: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    plan: Mapped[TrainingPlan] = relationship(back_populates="trainings")
    participants: Mapped[list["TrainingParticipant"]] = relationship(
        back_populates="training", cascade="all, delete-orphan")


class TrainingParticipant(db.Model):
    __tablename__ = "training_participant"
    __table_args__ = (UniqueConstraint("training_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("planned_training.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # Set when the admin assigned the member despite an overlap/duplicate warning.
    warning_acknowledged: Mapped[bool] = mapped_column(default=False)
    added_at: Mapped[datetime] = mapped_column(server_default=func.now())

    training: Mapped[PlannedTraining] = relationship(back_populates="participants")
    user: Mapped[User] = relationship()


class Lecturer(db.Model):
    """A lecturer in the roster (师资库): not necessarily a user of the site."""

    __tablename__ = "lecturer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True, info=PERSONAL)
    title: Mapped[str] = mapped_column(String(100), default="")  # 职务/职称
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Expertise areas, "、"-separated as typed, also kept as policy.CONTENT_CATEGORIES codes for filtering.
    fields: Mapped[str] = mapped_column(String(300), default="")
    categories: Mapped[str] = mapped_column(String(300), default="")  # ",political_theory,party_rules,"
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    phone: Mapped[str | None] = mapped_column(String(30), info=PERSONAL)
    bio: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    organisation: Mapped[Organisation] = relationship()
