"""Training: offline and off-job training records, video group sessions and their attendance, annual
off-job training plans filed by organisations (备案), and the lecturer roster (师资库)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import PERSONAL, Base
from elearn.orgs.models import Organisation, User
from elearn.security.fields import EncryptedText, hashed_from

# Training plan states: drafted, then filed with the superior committee.
PLAN_STATUSES = ("draft", "filed")
# Lecturer roster states.
LECTURER_STATUSES = ("active", "paused", "retired")


class TrainingPlan(Base):
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
    # The needs survey (elearn.branch.survey_models) this plan answers: of the plan's organisation or above.
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("survey.id"))

    organisation: Mapped[Organisation] = relationship()
    trainings: Mapped[list[PlannedTraining]] = relationship(
        back_populates="plan", order_by="PlannedTraining.starts_on", cascade="all, delete-orphan")


class PlannedTraining(Base):
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
    participants: Mapped[list[TrainingParticipant]] = relationship(
        back_populates="training", cascade="all, delete-orphan")


class TrainingParticipant(Base):
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


class Lecturer(Base):
    """A lecturer in the roster (师资库): not necessarily a user of the site."""

    __tablename__ = "lecturer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(EncryptedText(100, "lecturer.name"), info=PERSONAL)
    # The roster's search by a lecturer's full name (the name itself is encrypted: elearn.security.fields).
    name_hash: Mapped[str | None] = mapped_column(String(100), index=True, info=hashed_from("name"))
    title: Mapped[str] = mapped_column(String(100), default="")  # 职务/职称
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Expertise areas, "、"-separated as typed, also kept as policy.CONTENT_CATEGORIES codes for filtering.
    fields: Mapped[str] = mapped_column(String(300), default="")
    categories: Mapped[str] = mapped_column(String(300), default="")  # ",political_theory,party_rules,"
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    phone: Mapped[str | None] = mapped_column(EncryptedText(30, "lecturer.phone"), info=PERSONAL)
    bio: Mapped[str] = mapped_column(Text, default="")
    # The lecturer's own account where they have one (elearn.training.roster.link_account): one entry an account.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    organisation: Mapped[Organisation] = relationship()


class OfflineTraining(Base):
    """An offline or off-job training (线下/脱产培训) recorded by an org admin; attendees are credited."""

    __tablename__ = "offline_training"
    __table_args__ = (CheckConstraint("hours > 0", name="hours_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)  # who recorded it
    organiser: Mapped[str] = mapped_column(String(200))  # the organising committee's name
    organiser_level: Mapped[str] = mapped_column(String(20))  # policy.ORGANISER_LEVELS
    offjob: Mapped[bool] = mapped_column(default=False)
    category: Mapped[str] = mapped_column(String(40))
    innovative_theory: Mapped[bool] = mapped_column(default=False)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    days: Mapped[float | None]
    hours: Mapped[float]
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    organisation: Mapped[Organisation] = relationship()


class GroupSession(Base):
    """Video group training (视频集中培训): a branch plays a lesson to members present."""

    __tablename__ = "group_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    scheduled_at: Mapped[datetime]
    location: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    attendance_taken_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    organisation: Mapped[Organisation] = relationship()
    attendees: Mapped[list[GroupAttendance]] = relationship(
        back_populates="session", cascade="all, delete-orphan")


class GroupAttendance(Base):
    __tablename__ = "group_attendance"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("group_session.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    marked_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    marked_at: Mapped[datetime]

    session: Mapped[GroupSession] = relationship(back_populates="attendees")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
