"""sign-in through CAS and OpenID Connect providers

Revision ID: b7e5d4f6a8c9
Revises: a6d4c3e5f7b8
Create Date: 2026-12-01 19:45:00

A member's accounts at the configured sign-in providers (sign_in_identity: provider + subject unique), and the
per-organisation switch that turns local passwords off for a subtree (organisation.local_passwords_off).
"""
import sqlalchemy as sa
from alembic import op

revision = 'b7e5d4f6a8c9'
down_revision = 'a6d4c3e5f7b8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('linked_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('unlinked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_sign_in_identity_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_identity')),
    sa.UniqueConstraint('provider', 'subject', name=op.f('uq_sign_in_identity_provider'))
    )
    with op.batch_alter_table('sign_in_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_identity_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('local_passwords_off', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('local_passwords_off')
    with op.batch_alter_table('sign_in_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_identity_user_id'))
    op.drop_table('sign_in_identity')
