"""party birthdays lectures models (placeholder: filled by its owner)

Revision ID: d5a3f2b4c6e7
Revises: c4f2e1a3b5d6
Create Date: 2026-12-01 23:30:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = 'd5a3f2b4c6e7'
down_revision = 'c4f2e1a3b5d6'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
