"""The search documents table of the PostgreSQL backend (defined by ``content.pgsearch``; unused on SQLite,
where the whoosh index in ``ELEARN_INDEX_DIR`` holds the documents)."""
from __future__ import annotations

from content import pgsearch
from elearn.extensions import db

search_documents = pgsearch.document_table(db.metadata)
