"""What members keep and say about their study: bookmarks (收藏), private notes at a moment of a lesson or on a
paragraph of a reading, questions under a lesson with answers and replies, reports of posts, and course ratings.

Notes and bookmarks are private to their member; posts are seen by whoever may see the lesson (a hidden post
only by its moderators and its author); a rating is one per member and course, updated when re-rated.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.courses.models import Course, Lesson
from elearn.extensions import Base
from elearn.orgs.models import User
from elearn.readings.models import Reading

# what a member may bookmark
BOOKMARK_KINDS = ("course", "lesson", "reading")
# a question opens a thread under a lesson; the course's lecturer answers, members reply
POST_KINDS = ("question", "answer", "reply")


class CourseRating(Base):
    __tablename__ = "course_rating"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),
                      CheckConstraint("stars >= 1 AND stars <= 5", name="stars_range"),
                      Index("ix_course_rating_course", "course_id", "stars"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    stars: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()


class Bookmark(Base):
    __tablename__ = "bookmark"
    __table_args__ = (UniqueConstraint("user_id", "target_kind", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    target_kind: Mapped[str] = mapped_column(String(10))  # BOOKMARK_KINDS
    target_id: Mapped[int]
    created_at: Mapped[datetime]


class StudyNote(Base):
    """A member's private note: at ``position_s`` of a lesson, or on paragraph ``paragraph`` (``p-12``) of a
    reading; exactly one of ``lesson_id`` and ``reading_id`` is set."""

    __tablename__ = "study_note"
    __table_args__ = (Index("ix_study_note_user", "user_id", "created_at"),
                      CheckConstraint("(lesson_id IS NULL) <> (reading_id IS NULL)", name="one_target"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lesson.id"))
    position_s: Mapped[float | None]
    reading_id: Mapped[int | None] = mapped_column(ForeignKey("reading.id"))
    paragraph: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    lesson: Mapped[Lesson | None] = relationship()
    reading: Mapped[Reading | None] = relationship()


class DiscussionPost(Base):
    """A question under a lesson (``parent_id`` None), or an answer/reply in its thread (``parent_id`` = the
    question). Hidden posts stay, shown as hidden to all but their moderators and their author."""

    __tablename__ = "discussion_post"
    __table_args__ = (Index("ix_discussion_post_lesson", "lesson_id", "parent_id", "created_at"),
                      Index("ix_discussion_post_parent", "parent_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("discussion_post.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(10))  # POST_KINDS
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]  # a question: when the lecturer first answered
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reports: Mapped[int] = mapped_column(default=0)  # open reports (the moderation queue's order)

    lesson: Mapped[Lesson] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])


class PostReport(Base):
    __tablename__ = "post_report"
    __table_args__ = (UniqueConstraint("post_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("discussion_post.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
