"""Model stories (学习身边榜样): an org admin's story of an exemplary member, published to their subtree.

Who sees a published story: its ``StoryTarget`` rows, matched like a series' targets
(``elearn.courses.catalog.targets_condition``: the organisation subtree, optionally member categories), within
the publisher's subtree, and narrowed to the sectors of ``StorySector`` when there are any.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Base
from elearn.orgs.models import Organisation, User


class ModelStory(Base):
    __tablename__ = "model_story"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)  # the publisher's
    person_name: Mapped[str] = mapped_column(String(100))
    person_org: Mapped[str] = mapped_column(String(200))  # where the model works, as written
    title: Mapped[str] = mapped_column(String(200))
    body_html: Mapped[str] = mapped_column(Text)  # sanitised when saved (elearn.branch.stories.clean_body)
    photo_key: Mapped[str | None] = mapped_column(String(300))  # storage key
    photo_type: Mapped[str | None] = mapped_column(String(20))
    published: Mapped[bool] = mapped_column(default=False, index=True)
    published_at: Mapped[datetime | None]
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    organisation: Mapped[Organisation] = relationship()
    author: Mapped[User] = relationship()
    targets: Mapped[list[StoryTarget]] = relationship(cascade="all, delete-orphan")
    sectors: Mapped[list[StorySector]] = relationship(cascade="all, delete-orphan")


class StoryTarget(Base):
    """One audience of a story, shaped like ``SeriesTarget`` so that the series' rule matches it."""

    __tablename__ = "story_target"

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("model_story.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "organisation", "category" (and "sector", unused)
    sector: Mapped[str | None] = mapped_column(String(40))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    include_subtree: Mapped[bool] = mapped_column(default=True)
    member_category: Mapped[str | None] = mapped_column(String(30))


class StorySector(Base):
    """A sector the story is narrowed to (inside the publisher's subtree)."""

    __tablename__ = "story_sector"
    __table_args__ = (UniqueConstraint("story_id", "sector"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("model_story.id"), index=True)
    sector: Mapped[str] = mapped_column(String(40))


class StoryRead(Base):
    """A member's first reading of a story: the publisher's read count."""

    __tablename__ = "story_read"
    __table_args__ = (UniqueConstraint("story_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("model_story.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    read_at: Mapped[datetime]
