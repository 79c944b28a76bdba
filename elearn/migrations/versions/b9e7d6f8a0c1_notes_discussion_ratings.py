"""notes discussion ratings (placeholder: filled by its owner)

Revision ID: b9e7d6f8a0c1
Revises: a8d6c5e7f9b0
Create Date: 2026-12-01 23:30:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = 'b9e7d6f8a0c1'
down_revision = 'a8d6c5e7f9b0'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
