"""Branch officers (支部书记、副书记、委员): who runs a branch's life without administering anything larger.

An appointment is a period, like a membership: ending one keeps the history. Meetings, check-in and the other
records of the branch live in their own modules of this package.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Base
from elearn.orgs.models import Organisation, User

# posts a member may hold in a branch committee; secretaries and deputies manage the branch's life
POSTS = ("secretary", "deputy", "committee")
MANAGING_POSTS = ("secretary", "deputy")


class BranchOfficer(Base):
    __tablename__ = "branch_officer"
    __table_args__ = (Index("ix_branch_officer_user_current", "user_id", "ended_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    post: Mapped[str] = mapped_column(String(20))  # POSTS
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    appointed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
