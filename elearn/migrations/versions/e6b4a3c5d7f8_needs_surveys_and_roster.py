"""needs surveys and roster (placeholder: filled by its owner)

Revision ID: e6b4a3c5d7f8
Revises: d5a3f2b4c6e7
Create Date: 2026-12-01 23:30:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = 'e6b4a3c5d7f8'
down_revision = 'd5a3f2b4c6e7'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
