"""incremental analytics snapshots

Revision ID: e2b7c4d9a0f1
Revises: d1a9f8b0c2e3
Create Date: 2026-12-02 08:50:00

A snapshot keeps the data version and, per organisation, what its rows were computed from
(analytics_snapshot_org_state), so the next one recomputes only the organisations whose members were credited
since and copies the rest. Existing snapshots have no state: the next snapshot is a full one.
"""
import sqlalchemy as sa
from alembic import op

revision = 'e2b7c4d9a0f1'
down_revision = 'd1a9f8b0c2e3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('analytics_snapshot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('mode', sa.String(length=12), server_default='full', nullable=False))
        batch_op.add_column(sa.Column('base_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recomputed_orgs', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'analytics_snapshot_org_state',
        sa.Column('snapshot_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('members', sa.Integer(), nullable=False),
        sa.Column('credits', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_analytics_snapshot_org_state_organisation_id_organisation')),
        sa.ForeignKeyConstraint(['snapshot_id'], ['analytics_snapshot.id'],
                                name=op.f('fk_analytics_snapshot_org_state_snapshot_id_analytics_snapshot')),
        sa.PrimaryKeyConstraint('snapshot_id', 'organisation_id', name=op.f('pk_analytics_snapshot_org_state')),
    )


def downgrade():
    op.drop_table('analytics_snapshot_org_state')
    with op.batch_alter_table('analytics_snapshot', schema=None) as batch_op:
        batch_op.drop_column('recomputed_orgs')
        batch_op.drop_column('base_id')
        batch_op.drop_column('mode')
        batch_op.drop_column('data_version')
