"""Organisations: a tree (committee → general branch → branch), each with a sector."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import db


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # policy.ORG_KINDS
    sector: Mapped[str] = mapped_column(String(40), index=True)  # policy.SECTORS
    # A committee at county level or above may organise off-job training that counts for secretaries.
    county_level_or_above: Mapped[bool] = mapped_column(default=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Materialised path "/1/4/9/": a subtree is one indexed prefix query, at any size.
    path: Mapped[str] = mapped_column(String(500), index=True, default="/")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    parent: Mapped["Organisation | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Organisation"]] = relationship(back_populates="parent", order_by="Organisation.name")

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def is_within(self, other: "Organisation") -> bool:
        """True when this organisation is ``other`` or lies in its subtree."""
        return self.path.startswith(other.path)

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"
