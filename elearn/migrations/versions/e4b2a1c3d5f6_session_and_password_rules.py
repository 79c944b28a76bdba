"""session and password rules

Revision ID: e4b2a1c3d5f6
Revises: d3a1f0b2c4e5
Create Date: 2026-12-01 17:40:00

Login sessions remember when the user signed in (a remember-me rotation keeps it, so the absolute lifetime
counts from the sign-in; existing rows take their creation time) and whether the password must be changed
before anything else; previous password hashes are kept to refuse reuse and to date the current password.
"""
import sqlalchemy as sa
from alembic import op

revision = 'e4b2a1c3d5f6'
down_revision = 'd3a1f0b2c4e5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signed_in_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('password_change_required', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.execute("UPDATE login_session SET signed_in_at = created_at")
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.alter_column('signed_in_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column('password_change_required', existing_type=sa.Boolean(), server_default=None)
    op.create_table('password_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('replaced_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_password_history_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_history'))
    )
    with op.batch_alter_table('password_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_history_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('password_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_history_user_id'))
    op.drop_table('password_history')
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_column('password_change_required')
        batch_op.drop_column('signed_in_at')
