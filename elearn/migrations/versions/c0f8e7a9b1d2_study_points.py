"""study points (学习积分): placeholder, filled by the points work (elearn.points)

Revision ID: c0f8e7a9b1d2
Revises: b9e7d6f8a0c1
Create Date: 2026-12-02 04:10:00
"""

revision = 'c0f8e7a9b1d2'
down_revision = 'b9e7d6f8a0c1'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
