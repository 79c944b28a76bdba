"""A throwaway PostgreSQL database holding the search documents table, for the search benchmarks.

    with scratch_search(url) as pg:   # url: postgresql://user@host:port/db (any database of the server)
        pg.rebuild(docs); pg.bind.commit(); pg.search("党员")
"""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import make_url

from content import pgsearch


def _driver_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgresql://") else url


@contextmanager
def scratch_search(url: str) -> Iterator[pgsearch.PgSearch]:
    """A ``PgSearch`` on a new database of the server at ``url`` (created here, dropped afterwards)."""
    server = make_url(_driver_url(url))
    name = f"bench_search_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(server.set(database=name))
    try:
        metadata = MetaData()
        table = pgsearch.document_table(metadata)
        metadata.create_all(engine)
        with engine.connect() as conn:
            yield pgsearch.PgSearch(conn, table)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
