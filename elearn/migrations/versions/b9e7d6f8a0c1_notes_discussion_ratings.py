"""notes discussion ratings: bookmarks, study notes at a lesson moment or reading paragraph, questions under a
lesson with answers/replies and reports, course ratings (elearn.community)

Revision ID: b9e7d6f8a0c1
Revises: a8d6c5e7f9b0
Create Date: 2026-12-01 23:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'b9e7d6f8a0c1'
down_revision = 'a8d6c5e7f9b0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "course_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("stars >= 1 AND stars <= 5", name=op.f("ck_course_rating_stars_range")),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"], name=op.f("fk_course_rating_course_id_course")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_course_rating_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_rating")),
        sa.UniqueConstraint("user_id", "course_id", name=op.f("uq_course_rating_user_id")),
    )
    op.create_index("ix_course_rating_course", "course_rating", ["course_id", "stars"])
    op.create_table(
        "bookmark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sa.String(length=10), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_bookmark_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookmark")),
        sa.UniqueConstraint("user_id", "target_kind", "target_id", name=op.f("uq_bookmark_user_id")),
    )
    op.create_table(
        "study_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=True),
        sa.Column("position_s", sa.Float(), nullable=True),
        sa.Column("reading_id", sa.Integer(), nullable=True),
        sa.Column("paragraph", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("(lesson_id IS NULL) <> (reading_id IS NULL)", name=op.f("ck_study_note_one_target")),
        sa.ForeignKeyConstraint(["lesson_id"], ["lesson.id"], name=op.f("fk_study_note_lesson_id_lesson")),
        sa.ForeignKeyConstraint(["reading_id"], ["reading.id"], name=op.f("fk_study_note_reading_id_reading")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_study_note_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_note")),
    )
    op.create_index("ix_study_note_user", "study_note", ["user_id", "created_at"])
    op.create_table(
        "discussion_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("hidden_at", sa.DateTime(), nullable=True),
        sa.Column("hidden_by_id", sa.Integer(), nullable=True),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["user_account.id"],
                                name=op.f("fk_discussion_post_author_id_user_account")),
        sa.ForeignKeyConstraint(["hidden_by_id"], ["user_account.id"],
                                name=op.f("fk_discussion_post_hidden_by_id_user_account")),
        sa.ForeignKeyConstraint(["lesson_id"], ["lesson.id"], name=op.f("fk_discussion_post_lesson_id_lesson")),
        sa.ForeignKeyConstraint(["parent_id"], ["discussion_post.id"],
                                name=op.f("fk_discussion_post_parent_id_discussion_post")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discussion_post")),
    )
    op.create_index("ix_discussion_post_lesson", "discussion_post", ["lesson_id", "parent_id", "created_at"])
    op.create_index("ix_discussion_post_parent", "discussion_post", ["parent_id"])
    op.create_table(
        "post_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["post_id"], ["discussion_post.id"],
                                name=op.f("fk_post_report_post_id_discussion_post")),
        sa.ForeignKeyConstraint(["reporter_id"], ["user_account.id"],
                                name=op.f("fk_post_report_reporter_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_report")),
        sa.UniqueConstraint("post_id", "reporter_id", name=op.f("uq_post_report_post_id")),
    )
    op.create_index("ix_post_report_post_id", "post_report", ["post_id"])


def downgrade():
    op.drop_index("ix_post_report_post_id", table_name="post_report")
    op.drop_table("post_report")
    op.drop_index("ix_discussion_post_parent", table_name="discussion_post")
    op.drop_index("ix_discussion_post_lesson", table_name="discussion_post")
    op.drop_table("discussion_post")
    op.drop_index("ix_study_note_user", table_name="study_note")
    op.drop_table("study_note")
    op.drop_table("bookmark")
    op.drop_index("ix_course_rating_course", table_name="course_rating")
    op.drop_table("course_rating")
