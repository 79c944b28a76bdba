"""indexes for the heartbeat fast path: a session's evidence by delivery time

A lesson report reads the segments its playback session received, grouped by delivery time
(elearn.study.services, the lean path); this index answers that from one range per session, so a report costs
the same whether ten or ten thousand members watched the video.

Revision ID: a2d0c9e1f3b4
Revises: f1c9b8d0e2a3
Create Date: 2026-12-01 19:45:00
"""
from alembic import op

revision = 'a2d0c9e1f3b4'
down_revision = 'f1c9b8d0e2a3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("segment_delivery") as batch:
        batch.create_index("ix_segment_delivery_session_time", ["session_id", "asset_id", "delivered_at"])


def downgrade():
    with op.batch_alter_table("segment_delivery") as batch:
        batch.drop_index("ix_segment_delivery_session_time")
