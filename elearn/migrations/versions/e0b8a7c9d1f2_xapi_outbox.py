"""xAPI statement outbox: every learning record as the statement sent to the LRS (elearn.xapi)

Revision ID: e0b8a7c9d1f2
Revises: d9a7f6b8c0e1
Create Date: 2026-12-01 19:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e0b8a7c9d1f2'
down_revision = 'd9a7f6b8c0e1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'xapi_statement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('statement_id', sa.String(length=36), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('verb', sa.String(length=20), nullable=False),
        sa.Column('statement', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_xapi_statement_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_statement')),
        sa.UniqueConstraint('statement_id', name=op.f('uq_xapi_statement_statement_id')),
    )
    with op.batch_alter_table('xapi_statement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_xapi_statement_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_xapi_statement_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_xapi_statement_due', ['status', 'next_attempt_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('xapi_statement', schema=None) as batch_op:
        batch_op.drop_index('ix_xapi_statement_due')
        batch_op.drop_index(batch_op.f('ix_xapi_statement_user_id'))
        batch_op.drop_index(batch_op.f('ix_xapi_statement_created_at'))
    op.drop_table('xapi_statement')
