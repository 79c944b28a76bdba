"""two factor sign in (placeholder: filled in by the change that needs it)

Revision ID: d3a1f0b2c4e5
Revises: c7d2e4f6a813
Create Date: 2026-12-01 17:40:00
"""

revision = 'd3a1f0b2c4e5'
down_revision = 'c7d2e4f6a813'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
