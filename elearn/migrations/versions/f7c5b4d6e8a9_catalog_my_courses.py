"""catalog my courses: the electives a member added to "my courses" from the catalog (issue 20)

Revision ID: f7c5b4d6e8a9
Revises: e6b4a3c5d7f8
Create Date: 2026-12-01 23:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f7c5b4d6e8a9'
down_revision = 'e6b4a3c5d7f8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('my_course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_my_course_course_id_course')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_my_course_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_my_course')),
    sa.UniqueConstraint('user_id', 'course_id', name=op.f('uq_my_course_user_id'))
    )
    with op.batch_alter_table('my_course', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_my_course_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_my_course_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('my_course', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_my_course_user_id'))
        batch_op.drop_index(batch_op.f('ix_my_course_course_id'))
    op.drop_table('my_course')
