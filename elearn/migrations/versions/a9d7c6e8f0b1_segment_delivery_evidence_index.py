"""segment delivery evidence index: the session-by-time index covers the lean path's per-time credit sums (issue 17)

Revision ID: a9d7c6e8f0b1
Revises: f3c8a1d5e7b2
Create Date: 2026-12-03 10:30:00
"""
from alembic import op

revision = 'a9d7c6e8f0b1'
down_revision = 'f3c8a1d5e7b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('segment_delivery', schema=None) as batch:
        batch.create_index("ix_segment_delivery_session_evidence",
                           ["session_id", "asset_id", "delivered_at", "segment_index", "credited_s"])
        batch.drop_index("ix_segment_delivery_session_time")


def downgrade():
    with op.batch_alter_table('segment_delivery', schema=None) as batch:
        batch.create_index("ix_segment_delivery_session_time", ["session_id", "asset_id", "delivered_at"])
        batch.drop_index("ix_segment_delivery_session_evidence")
