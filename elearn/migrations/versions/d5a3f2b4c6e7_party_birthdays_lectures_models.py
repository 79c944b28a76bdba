"""party lectures (党课开讲啦, 优秀党课) and model stories (学习身边榜样)

Revision ID: d5a3f2b4c6e7
Revises: c4f2e1a3b5d6
Create Date: 2026-12-01 23:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'd5a3f2b4c6e7'
down_revision = 'c4f2e1a3b5d6'
branch_labels = None
depends_on = None

NOW = sa.text("(CURRENT_TIMESTAMP)")


def upgrade():
    op.create_table(
        "party_lecture",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("speaker_name", sa.String(length=100), nullable=False),
        sa.Column("lecturer_id", sa.Integer(), nullable=True),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("branch_series_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("nominated_by_id", sa.Integer(), nullable=True),
        sa.Column("nominated_at", sa.DateTime(), nullable=True),
        sa.Column("showcased_by_id", sa.Integer(), nullable=True),
        sa.Column("showcase_year", sa.Integer(), nullable=True),
        sa.Column("showcase_organisation_id", sa.Integer(), nullable=True),
        sa.Column("showcase_series_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["lecturer_id"], ["lecturer.id"]),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"]),
        sa.ForeignKeyConstraint(["lesson_id"], ["lesson.id"]),
        sa.ForeignKeyConstraint(["branch_series_id"], ["series.id"]),
        sa.ForeignKeyConstraint(["nominated_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["showcased_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["showcase_organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["showcase_series_id"], ["series.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("course_id"),
    )
    op.create_index("ix_party_lecture_organisation_id", "party_lecture", ["organisation_id"])
    op.create_index("ix_party_lecture_status_year", "party_lecture", ["status", "showcase_year"])
    op.create_table(
        "model_story",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("person_name", sa.String(length=100), nullable=False),
        sa.Column("person_org", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("photo_key", sa.String(length=300), nullable=True),
        sa.Column("photo_type", sa.String(length=20), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["author_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_model_story_organisation_id", "model_story", ["organisation_id"])
    op.create_index("ix_model_story_published", "model_story", ["published"])
    op.create_table(
        "story_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sector", sa.String(length=40), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("include_subtree", sa.Boolean(), nullable=False),
        sa.Column("member_category", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(["story_id"], ["model_story.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_story_target_story_id", "story_target", ["story_id"])
    op.create_table(
        "story_sector",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("sector", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["model_story.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("story_id", "sector"),
    )
    op.create_index("ix_story_sector_story_id", "story_sector", ["story_id"])
    op.create_table(
        "story_read",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["model_story.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("story_id", "user_id"),
    )
    op.create_index("ix_story_read_story_id", "story_read", ["story_id"])


def downgrade():
    for table in ("story_read", "story_sector", "story_target", "model_story"):
        op.drop_table(table)
    op.drop_index("ix_party_lecture_status_year", table_name="party_lecture")
    op.drop_index("ix_party_lecture_organisation_id", table_name="party_lecture")
    op.drop_table("party_lecture")
