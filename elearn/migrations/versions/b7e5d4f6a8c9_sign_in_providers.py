"""sign-in through CAS and OpenID Connect providers (SSO helper fills this in)

Revision ID: b7e5d4f6a8c9
Revises: a6d4c3e5f7b8
Create Date: 2026-12-01 19:45:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = 'b7e5d4f6a8c9'
down_revision = 'a6d4c3e5f7b8'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
