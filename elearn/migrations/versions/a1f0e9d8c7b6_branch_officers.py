"""branch officers: who is secretary, deputy or committee member of an organisation, over time

Revision ID: a1f0e9d8c7b6
Revises: a2d0c9e1f3b4
Create Date: 2026-12-01 23:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'a1f0e9d8c7b6'
down_revision = 'a2d0c9e1f3b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "branch_officer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("post", sa.String(length=20), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("appointed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["appointed_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_branch_officer_organisation_id", "branch_officer", ["organisation_id"])
    op.create_index("ix_branch_officer_user_current", "branch_officer", ["user_id", "ended_on"])


def downgrade():
    op.drop_index("ix_branch_officer_user_current", table_name="branch_officer")
    op.drop_index("ix_branch_officer_organisation_id", table_name="branch_officer")
    op.drop_table("branch_officer")
