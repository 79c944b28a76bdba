"""personal data encrypted (placeholder: filled in by the change that needs it)

Revision ID: f5c3b2d4e6a7
Revises: e4b2a1c3d5f6
Create Date: 2026-12-01 17:40:00
"""

revision = 'f5c3b2d4e6a7'
down_revision = 'e4b2a1c3d5f6'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
