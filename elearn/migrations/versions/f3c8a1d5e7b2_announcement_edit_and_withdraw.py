"""announcements can be edited and withdrawn

Revision ID: f3c8a1d5e7b2
Revises: e2b7c4d9a0f1
Create Date: 2026-12-02 17:40:00

The Markdown an announcement was written in (for the edit form; existing ones start from their sanitised HTML,
which Markdown passes through), when it was last edited, when it was withdrawn and how many members had been
told by then (their notifications are removed on withdrawal).
"""
import sqlalchemy as sa
from alembic import op

revision = 'f3c8a1d5e7b2'
down_revision = 'e2b7c4d9a0f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_source', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('edited_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('told_at_withdrawal', sa.Integer(), nullable=True))
    op.execute("UPDATE announcement SET body_source = body")
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.alter_column('body_source', existing_type=sa.Text(), nullable=False)


def downgrade():
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.drop_column('told_at_withdrawal')
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('edited_at')
        batch_op.drop_column('body_source')
