"""session and password rules (placeholder: filled in by the change that needs it)

Revision ID: e4b2a1c3d5f6
Revises: d3a1f0b2c4e5
Create Date: 2026-12-01 17:40:00
"""

revision = 'e4b2a1c3d5f6'
down_revision = 'd3a1f0b2c4e5'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
