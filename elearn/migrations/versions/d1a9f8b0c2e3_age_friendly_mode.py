"""age-friendly mode (适老化)

Revision ID: d1a9f8b0c2e3
Revises: c0f8e7a9b1d2
Create Date: 2026-12-02 04:10:00

The member's choice of the age-friendly mode (larger text, higher contrast, a simplified home), kept on the
account: user_account.age_friendly, off for every existing account.
"""
import sqlalchemy as sa
from alembic import op

revision = 'd1a9f8b0c2e3'
down_revision = 'c0f8e7a9b1d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('age_friendly', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('age_friendly')
