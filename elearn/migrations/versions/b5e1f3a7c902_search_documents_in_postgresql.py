"""search documents in the database, for the PostgreSQL search backend

Revision ID: b5e1f3a7c902
Revises: 9a4d6c2e8b31
Create Date: 2026-12-01 17:00:00

One row per indexed document (reading chunk, course, lesson, subtitle chunk) with the project's own bigram
tokens in a tsvector (GIN) and the folded text (pg_trgm GIN) — see content.pgsearch. Created on SQLite too,
with plain types, and left empty there: the whoosh index is the search backend of SQLite deployments.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'b5e1f3a7c902'
down_revision = '9a4d6c2e8b31'
branch_labels = None
depends_on = None


def _tokens():
    return sa.JSON().with_variant(postgresql.ARRAY(sa.Text()), "postgresql")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('search_document',
    sa.Column('doc_id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('reading_id', sa.Text(), nullable=True),
    sa.Column('course_id', sa.Text(), nullable=True),
    sa.Column('lesson_id', sa.Text(), nullable=True),
    sa.Column('anchor', sa.JSON(), nullable=True),
    sa.Column('anchors', sa.JSON(), nullable=True),
    sa.Column('series', _tokens(), nullable=True),
    sa.Column('sectors', _tokens(), nullable=True),
    sa.Column('audience', _tokens(), nullable=True),
    sa.Column('title_folded', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('tsv', sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"), nullable=False),
    sa.PrimaryKeyConstraint('doc_id', name=op.f('pk_search_document'))
    )
    op.create_index('ix_search_document_tsv', 'search_document', ['tsv'], postgresql_using='gin')
    op.create_index('ix_search_document_text_trgm', 'search_document', ['text'], postgresql_using='gin',
                    postgresql_ops={'text': 'gin_trgm_ops'})
    op.create_index('ix_search_document_audience', 'search_document', ['audience'], postgresql_using='gin')
    for name in ('reading_id', 'course_id', 'lesson_id'):
        op.create_index(f'ix_search_document_{name}', 'search_document', [name])
    if op.get_bind().dialect.name == "postgresql":
        # Out of line, uncompressed: what every match is checked and ranked on (see content.pgsearch).
        op.execute("ALTER TABLE search_document ALTER COLUMN text SET STORAGE EXTERNAL, "
                   "ALTER COLUMN tsv SET STORAGE EXTERNAL, ALTER COLUMN body SET STORAGE EXTERNAL")


def downgrade():
    op.drop_table('search_document')
