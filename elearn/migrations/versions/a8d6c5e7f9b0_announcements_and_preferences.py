"""announcements and preferences (placeholder: filled by its owner)

Revision ID: a8d6c5e7f9b0
Revises: f7c5b4d6e8a9
Create Date: 2026-12-01 23:30:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = 'a8d6c5e7f9b0'
down_revision = 'f7c5b4d6e8a9'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
