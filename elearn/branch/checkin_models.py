"""Tables of check-in and political birthdays: the short codes a host screen has shown (so a typed code finds its
meeting or session without trying every open one), and each member's political birthday of a year (notified
once, the oath renewed or not)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from elearn.extensions import Base


class CheckinCode(Base):
    """A rotating code shown by a host screen: one row per target and time step, written when first shown.
    The code itself is an HMAC of (kind, target, step); the row only maps a typed short form back to its target."""

    __tablename__ = "checkin_code"
    __table_args__ = (UniqueConstraint("kind", "target_id", "step"),
                      Index("ix_checkin_code_short_step", "short_code", "step"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # elearn.branch.checkin.KINDS
    target_id: Mapped[int]
    step: Mapped[int]  # seconds since the epoch // policy.CHECKIN.step_s
    short_code: Mapped[str] = mapped_column(String(12))
    shown_at: Mapped[datetime]


class PoliticalBirthday(Base):
    """A member's political birthday (the anniversary of joining the party) in one year: the notification sent
    once (the unique row is the guard against a rerun of the daily job) and the oath renewal (重温入党誓词)."""

    __tablename__ = "political_birthday"
    __table_args__ = (UniqueConstraint("user_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    year: Mapped[int]
    notified_at: Mapped[datetime | None]
    oath_renewed_at: Mapped[datetime | None]
