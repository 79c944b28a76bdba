"""indexes for the heartbeat fast path (performance helper fills this in)

Revision ID: a2d0c9e1f3b4
Revises: f1c9b8d0e2a3
Create Date: 2026-12-01 19:45:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = 'a2d0c9e1f3b4'
down_revision = 'f1c9b8d0e2a3'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
