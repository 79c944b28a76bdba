"""branch meetings (placeholder: filled by its owner)

Revision ID: b3e1d0f2a4c5
Revises: a1f0e9d8c7b6
Create Date: 2026-12-01 23:30:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = 'b3e1d0f2a4c5'
down_revision = 'a1f0e9d8c7b6'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
