"""verifiable certificates

Revision ID: d9a7f6b8c0e1
Revises: c8f6e5a7b9d0
Create Date: 2026-12-01 19:45:00

The certificate table: one row per certificate issued (the cycle's transcript or a completed series), with its
serial and verification code (both unique), the canonical content it states as signed, its Ed25519 signature,
and when a correction revoked it or which certificate replaced it.
"""
import sqlalchemy as sa
from alembic import op

revision = 'd9a7f6b8c0e1'
down_revision = 'c8f6e5a7b9d0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=24), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('statement_digest', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_reason', sa.String(length=300), nullable=True),
    sa.Column('replaced_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['certificate.id'],
                            name=op.f('fk_certificate_replaced_by_id_certificate')),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_certificate_series_id_series')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_certificate_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('code', name=op.f('uq_certificate_code')),
    sa.UniqueConstraint('serial', name=op.f('uq_certificate_serial'))
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index('ix_certificate_user_kind', ['user_id', 'kind', 'series_id'], unique=False)


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index('ix_certificate_user_kind')
    op.drop_table('certificate')
