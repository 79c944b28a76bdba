"""outbox dedupe key: an e-mail of a notification knows it, so withdrawing an announcement withdraws its unsent e-mails

Revision ID: c4f2e6a8b0d3
Revises: a9d7c6e8f0b1
Create Date: 2026-12-03 13:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c4f2e6a8b0d3'
down_revision = 'a9d7c6e8f0b1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('email_outbox', schema=None) as batch:
        batch.add_column(sa.Column('dedupe_key', sa.String(length=80), nullable=True))
        batch.create_index("ix_email_outbox_dedupe_key", ["dedupe_key"])


def downgrade():
    with op.batch_alter_table('email_outbox', schema=None) as batch:
        batch.drop_index("ix_email_outbox_dedupe_key")
        batch.drop_column('dedupe_key')
