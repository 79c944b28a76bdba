"""API token scopes and organisation limit (API helper fills this in)

Revision ID: f1c9b8d0e2a3
Revises: e0b8a7c9d1f2
Create Date: 2026-12-01 19:45:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = 'f1c9b8d0e2a3'
down_revision = 'e0b8a7c9d1f2'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
