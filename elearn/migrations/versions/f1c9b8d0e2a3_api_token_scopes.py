"""API token scopes and organisation limit: ``api_token.scopes`` (existing tokens keep read+study) and
``api_token.organisation_id`` (an admin token limited to one subtree).

Revision ID: f1c9b8d0e2a3
Revises: e0b8a7c9d1f2
Create Date: 2026-12-01 19:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f1c9b8d0e2a3'
down_revision = 'e0b8a7c9d1f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("scopes", sa.String(length=50), server_default="read study", nullable=False))
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f("fk_api_token_organisation_id_organisation"), "organisation",
                                 ["organisation_id"], ["id"])


def downgrade():
    with op.batch_alter_table("api_token") as batch:
        batch.drop_constraint(batch.f("fk_api_token_organisation_id_organisation"), type_="foreignkey")
        batch.drop_column("organisation_id")
        batch.drop_column("scopes")
