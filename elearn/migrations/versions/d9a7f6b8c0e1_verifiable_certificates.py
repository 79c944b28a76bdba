"""verifiable certificates (certificate helper fills this in)

Revision ID: d9a7f6b8c0e1
Revises: c8f6e5a7b9d0
Create Date: 2026-12-01 19:45:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = 'd9a7f6b8c0e1'
down_revision = 'c8f6e5a7b9d0'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
