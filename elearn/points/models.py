"""Study points (学习积分): one award row per thing that earned points, and each organisation's ranking switch.

An award is unique on ``(user_id, reason, reference)``: a lesson, course, quiz or reading credited in the ledger
(reference: its ledger source id), a study day (reference: the day's ordinal), a streak bonus (the day it was
reached) or the take-back of a corrected credit's award (reference: that award). Replays, races and reruns
therefore insert nothing more. Points are never read by the ledger: they change no 学时.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from elearn.extensions import Base

# why points were awarded (labels: elearn.points.awards.REASON_LABELS)
AWARD_REASONS = ("lesson", "course", "quiz", "reading", "daily", "streak", "reversal")


class PointsAward(Base):
    __tablename__ = "points_award"
    __table_args__ = (UniqueConstraint("user_id", "reason", "reference"),
                      Index("ix_points_award_user_day", "user_id", "awarded_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(String(20))  # AWARD_REASONS
    reference: Mapped[int]
    points: Mapped[int]  # negative for a reversal; 0 when the daily cap was already reached
    capped: Mapped[bool] = mapped_column(default=False)  # fewer points than the rule gives (daily cap)
    title: Mapped[str] = mapped_column(String(300), default="")  # what was studied, as the ledger called it
    streak_days: Mapped[int | None]  # daily awards: consecutive study days up to this one
    awarded_on: Mapped[date]  # the site's date
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class PointsRankingSetting(Base):
    """An organisation's explicit choice for the branch ranking; the nearest choice on an organisation's path
    (its own, else its parent's, …) holds for it, and without any the ranking is off."""

    __tablename__ = "points_ranking_setting"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    enabled: Mapped[bool]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime]
