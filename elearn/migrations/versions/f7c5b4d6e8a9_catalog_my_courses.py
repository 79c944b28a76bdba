"""catalog my courses (placeholder: filled by its owner)

Revision ID: f7c5b4d6e8a9
Revises: e6b4a3c5d7f8
Create Date: 2026-12-01 23:30:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = 'f7c5b4d6e8a9'
down_revision = 'e6b4a3c5d7f8'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
