"""study points (学习积分): one award row per thing that earned points, and each organisation's branch ranking
switch (elearn.points)

Revision ID: c0f8e7a9b1d2
Revises: b9e7d6f8a0c1
Create Date: 2026-12-02 04:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'c0f8e7a9b1d2'
down_revision = 'b9e7d6f8a0c1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "points_award",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("capped", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("streak_days", sa.Integer(), nullable=True),
        sa.Column("awarded_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_points_award_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_award")),
        sa.UniqueConstraint("user_id", "reason", "reference", name=op.f("uq_points_award_user_id")),
    )
    op.create_index("ix_points_award_user_day", "points_award", ["user_id", "awarded_on"])
    op.create_table(
        "points_ranking_setting",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_points_ranking_setting_organisation_id_organisation")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user_account.id"],
                                name=op.f("fk_points_ranking_setting_updated_by_id_user_account")),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_points_ranking_setting")),
    )


def downgrade():
    op.drop_table("points_ranking_setting")
    op.drop_index("ix_points_award_user_day", table_name="points_award")
    op.drop_table("points_award")
