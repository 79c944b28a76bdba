"""announcements and preferences: notifications once per event (dedupe_key), e-mail choices per kind, the
daily digest's record, announcements and their readers

Revision ID: a8d6c5e7f9b0
Revises: f7c5b4d6e8a9
Create Date: 2026-12-01 23:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'a8d6c5e7f9b0'
down_revision = 'f7c5b4d6e8a9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint('uq_notification_user_dedupe', ['user_id', 'dedupe_key'])
    op.create_table('notification_preference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('email', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_preference_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preference')),
    sa.UniqueConstraint('user_id', 'kind', name='uq_notification_preference_user_kind')
    )
    op.create_table('notification_digest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('notifications', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_digest_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_digest')),
    sa.UniqueConstraint('user_id', 'day', name='uq_notification_digest_user_day')
    )
    op.create_table('announcement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('sectors', sa.String(length=500), nullable=False),
    sa.Column('categories', sa.String(length=300), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_announcement_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_announcement_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement'))
    )
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcement_organisation_id'), ['organisation_id'], unique=False)
    op.create_table('announcement_read',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcement.id'], name=op.f('fk_announcement_read_announcement_id_announcement')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_announcement_read_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement_read')),
    sa.UniqueConstraint('announcement_id', 'user_id', name='uq_announcement_read')
    )


def downgrade():
    op.drop_table('announcement_read')
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announcement_organisation_id'))
    op.drop_table('announcement')
    op.drop_table('notification_digest')
    op.drop_table('notification_preference')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint('uq_notification_user_dedupe', type_='unique')
        batch_op.drop_column('dedupe_key')
