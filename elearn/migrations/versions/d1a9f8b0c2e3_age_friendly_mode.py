"""age-friendly mode (适老化): placeholder, filled by the age-friendly work

Revision ID: d1a9f8b0c2e3
Revises: c0f8e7a9b1d2
Create Date: 2026-12-02 04:10:00
"""

revision = 'd1a9f8b0c2e3'
down_revision = 'c0f8e7a9b1d2'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
