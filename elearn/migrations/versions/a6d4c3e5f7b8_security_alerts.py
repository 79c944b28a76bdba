"""security alerts for site admins

Revision ID: a6d4c3e5f7b8
Revises: f5c3b2d4e6a7
Create Date: 2026-12-01 17:50:00

An alert is raised with the audit entry of a security event site admins must look at (an account locked after
repeated failures, a broken ledger chain) and stays open until a site admin marks it handled.
"""
import sqlalchemy as sa
from alembic import op

revision = 'a6d4c3e5f7b8'
down_revision = 'f5c3b2d4e6a7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('security_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('audit_entry_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('handled_at', sa.DateTime(), nullable=True),
    sa.Column('handled_note', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['audit_entry_id'], ['audit_entry.id'],
                            name=op.f('fk_security_alert_audit_entry_id_audit_entry')),
    sa.ForeignKeyConstraint(['handled_by_id'], ['user_account.id'],
                            name=op.f('fk_security_alert_handled_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_alert'))
    )


def downgrade():
    op.drop_table('security_alert')
