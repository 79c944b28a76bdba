"""password reset and in-app notifications (reset/notify helper fills this in)

Revision ID: c8f6e5a7b9d0
Revises: b7e5d4f6a8c9
Create Date: 2026-12-01 19:45:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = 'c8f6e5a7b9d0'
down_revision = 'b7e5d4f6a8c9'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
