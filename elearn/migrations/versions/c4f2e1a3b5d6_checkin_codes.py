"""checkin codes (placeholder: filled by its owner)

Revision ID: c4f2e1a3b5d6
Revises: b3e1d0f2a4c5
Create Date: 2026-12-01 23:30:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = 'c4f2e1a3b5d6'
down_revision = 'b3e1d0f2a4c5'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
