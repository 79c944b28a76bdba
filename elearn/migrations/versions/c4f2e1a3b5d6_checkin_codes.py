"""checkin codes, political birthdays: the short codes host screens have shown, each member's political
birthday of a year (notified, oath renewed), and the member's party-joining date

Revision ID: c4f2e1a3b5d6
Revises: b3e1d0f2a4c5
Create Date: 2026-12-01 23:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c4f2e1a3b5d6'
down_revision = 'b3e1d0f2a4c5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "checkin_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("short_code", sa.String(length=12), nullable=False),
        sa.Column("shown_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_code")),
        sa.UniqueConstraint("kind", "target_id", "step", name=op.f("uq_checkin_code_kind")),
    )
    op.create_index("ix_checkin_code_short_step", "checkin_code", ["short_code", "step"])
    op.create_table(
        "political_birthday",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("notified_at", sa.DateTime(), nullable=True),
        sa.Column("oath_renewed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_political_birthday_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_political_birthday")),
        sa.UniqueConstraint("user_id", "year", name=op.f("uq_political_birthday_user_id")),
    )
    op.create_index("ix_political_birthday_user_id", "political_birthday", ["user_id"])
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(sa.Column("party_joined_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_column("party_joined_on")
    op.drop_index("ix_political_birthday_user_id", table_name="political_birthday")
    op.drop_table("political_birthday")
    op.drop_index("ix_checkin_code_short_step", table_name="checkin_code")
    op.drop_table("checkin_code")
