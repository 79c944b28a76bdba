"""one study clock per member, refused reports, quiz answer visibility, encrypted segments

Revision ID: 9a4d6c2e8b31
Revises: 7c1e2b9d4f10
Create Date: 2026-12-01 13:30:00

The wall-clock budget moves from each lesson's and reading's progress row to one row per member
(study_clock), so lessons and readings open in parallel share it; each segment delivery keeps the media
credited from it (segments fetched at once are not played at once) and a reading session what it credited. Refused reports are counted per member and reason.
A course may ask for attention checks (防挂机); a member's progress on a lesson keeps its open prompt.
A quiz says when its correct answers are shown. An asset keeps the secret its segment keys derive from.
"""
import sqlalchemy as sa
from alembic import op

revision = '9a4d6c2e8b31'
down_revision = '7c1e2b9d4f10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('study_clock',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('budget_s', sa.Float(), nullable=False),
    sa.Column('budget_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_study_clock_user_id_user_account')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_study_clock'))
    )
    op.create_table('report_refusal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('last_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_report_refusal_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_refusal')),
    sa.UniqueConstraint('user_id', 'reason', name=op.f('uq_report_refusal_user_id'))
    )
    with op.batch_alter_table('report_refusal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_refusal_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('playback_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credited_s', sa.Float(), server_default='0', nullable=False))
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attention_checks', sa.Boolean(), server_default='0', nullable=False))
    with op.batch_alter_table('segment_delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credited_s', sa.Float(), server_default='0', nullable=False))
        batch_op.drop_constraint('uq_segment_delivery_session_id', type_='unique')
        batch_op.create_unique_constraint('uq_segment_delivery_session_id', ['session_id', 'asset_id',
                                                                               'segment_index'])
    with op.batch_alter_table('media_asset', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_secret', sa.String(length=64), nullable=True))
    with op.batch_alter_table('quiz', schema=None) as batch_op:
        batch_op.add_column(sa.Column('show_answers', sa.String(length=10), server_default='final', nullable=False))
    with op.batch_alter_table('watch_progress', schema=None) as batch_op:
        batch_op.drop_column('budget_s')
        batch_op.drop_column('budget_at')
        batch_op.add_column(sa.Column('attention_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('attention_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('attention_answered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('attention_due_s', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('attention_credited_s', sa.Float(), server_default='0', nullable=False))
    with op.batch_alter_table('reading_progress', schema=None) as batch_op:
        batch_op.drop_column('budget_s')
        batch_op.drop_column('budget_at')


def downgrade():
    with op.batch_alter_table('reading_progress', schema=None) as batch_op:
        batch_op.add_column(sa.Column('budget_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('budget_s', sa.Float(), server_default='0', nullable=False))
    with op.batch_alter_table('watch_progress', schema=None) as batch_op:
        batch_op.drop_column('attention_credited_s')
        batch_op.drop_column('attention_due_s')
        batch_op.drop_column('attention_answered_at')
        batch_op.drop_column('attention_at')
        batch_op.drop_column('attention_token')
        batch_op.add_column(sa.Column('budget_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('budget_s', sa.Float(), server_default='0', nullable=False))
    with op.batch_alter_table('quiz', schema=None) as batch_op:
        batch_op.drop_column('show_answers')
    with op.batch_alter_table('media_asset', schema=None) as batch_op:
        batch_op.drop_column('key_secret')
    with op.batch_alter_table('segment_delivery', schema=None) as batch_op:
        batch_op.drop_constraint('uq_segment_delivery_session_id', type_='unique')
        batch_op.create_unique_constraint('uq_segment_delivery_session_id', ['session_id', 'segment_index'])
        batch_op.drop_column('credited_s')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_column('attention_checks')
    with op.batch_alter_table('playback_session', schema=None) as batch_op:
        batch_op.drop_column('credited_s')
    with op.batch_alter_table('report_refusal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_refusal_user_id'))
    op.drop_table('report_refusal')
    op.drop_table('study_clock')
