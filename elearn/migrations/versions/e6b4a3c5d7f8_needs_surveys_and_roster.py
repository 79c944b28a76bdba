"""needs surveys (survey, questions, one response per member, answers), the survey a training plan answers, and
a lecturer account linked to one roster entry at most

Revision ID: e6b4a3c5d7f8
Revises: d5a3f2b4c6e7
Create Date: 2026-12-01 23:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'e6b4a3c5d7f8'
down_revision = 'd5a3f2b4c6e7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'survey',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('intro', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('opens_on', sa.Date(), nullable=True),
        sa.Column('closes_on', sa.Date(), nullable=True),
        sa.Column('anonymous', sa.Boolean(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('published_at', sa.DateTime(), nullable=True),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_survey_created_by_id_user_account')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_survey_organisation_id_organisation')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey')),
    )
    op.create_index('ix_survey_org_status', 'survey', ['organisation_id', 'status'], unique=False)
    op.create_table(
        'survey_question',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('options', sa.JSON(), nullable=False),
        sa.Column('required', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_question_survey_id_survey')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_question')),
    )
    op.create_index(op.f('ix_survey_question_survey_id'), 'survey_question', ['survey_id'], unique=False)
    op.create_table(
        'survey_response',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_response_survey_id_survey')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_survey_response_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response')),
        sa.UniqueConstraint('survey_id', 'user_id', name='uq_survey_response_once'),
    )
    op.create_index(op.f('ix_survey_response_survey_id'), 'survey_response', ['survey_id'], unique=False)
    op.create_index(op.f('ix_survey_response_user_id'), 'survey_response', ['user_id'], unique=False)
    op.create_table(
        'survey_answer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('choices', sa.JSON(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['question_id'], ['survey_question.id'], name=op.f('fk_survey_answer_question_id_survey_question')),
        sa.ForeignKeyConstraint(['response_id'], ['survey_response.id'], name=op.f('fk_survey_answer_response_id_survey_response')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answer')),
        sa.UniqueConstraint('response_id', 'question_id', name=op.f('uq_survey_answer_response_id')),
    )
    op.create_index(op.f('ix_survey_answer_question_id'), 'survey_answer', ['question_id'], unique=False)
    with op.batch_alter_table('training_plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('survey_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_training_plan_survey_id_survey'), 'survey', ['survey_id'], ['id'])
    with op.batch_alter_table('lecturer', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_lecturer_user_id'), ['user_id'])


def downgrade():
    with op.batch_alter_table('lecturer', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_lecturer_user_id'), type_='unique')
    with op.batch_alter_table('training_plan', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_training_plan_survey_id_survey'), type_='foreignkey')
        batch_op.drop_column('survey_id')
    op.drop_index(op.f('ix_survey_answer_question_id'), table_name='survey_answer')
    op.drop_table('survey_answer')
    op.drop_index(op.f('ix_survey_response_user_id'), table_name='survey_response')
    op.drop_index(op.f('ix_survey_response_survey_id'), table_name='survey_response')
    op.drop_table('survey_response')
    op.drop_index(op.f('ix_survey_question_survey_id'), table_name='survey_question')
    op.drop_table('survey_question')
    op.drop_index('ix_survey_org_status', table_name='survey')
    op.drop_table('survey')
