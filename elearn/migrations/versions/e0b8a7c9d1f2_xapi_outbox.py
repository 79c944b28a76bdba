"""xAPI statement outbox (xAPI helper fills this in)

Revision ID: e0b8a7c9d1f2
Revises: d9a7f6b8c0e1
Create Date: 2026-12-01 19:45:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = 'e0b8a7c9d1f2'
down_revision = 'd9a7f6b8c0e1'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
