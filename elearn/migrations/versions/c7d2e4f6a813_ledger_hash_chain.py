"""the ledger's hash chain and signed checkpoints

Revision ID: c7d2e4f6a813
Revises: b5e1f3a7c902
Create Date: 2026-12-01 17:30:00

Every study_credit row takes a position on one chain over the ledger (chain_seq), with the hash of its content
and of the entry before it (entry_hash, prev_hash, hash_alg); ledger_chain holds the head, ledger_checkpoint
the signed anchors. Rows written before this revision stay outside the chain until `elearn ledger seal`
appends them (verification names them until then).
"""
import sqlalchemy as sa
from alembic import op

revision = 'c7d2e4f6a813'
down_revision = 'b5e1f3a7c902'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ledger_chain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_chain'))
    )
    op.create_table('ledger_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_checkpoint'))
    )
    with op.batch_alter_table('study_credit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('entry_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash_alg', sa.String(length=10), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_study_credit_chain_seq'), ['chain_seq'])


def downgrade():
    with op.batch_alter_table('study_credit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_study_credit_chain_seq'), type_='unique')
        batch_op.drop_column('hash_alg')
        batch_op.drop_column('entry_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('chain_seq')
    op.drop_table('ledger_checkpoint')
    op.drop_table('ledger_chain')
