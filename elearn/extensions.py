"""Flask extensions, created unbound and bound to the app in :func:`elearn.create_app`, and the typed
declarative base every model derives from."""
from __future__ import annotations

import sqlite3
from typing import Any, TypeVar, cast

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import CursorResult, MetaData, Result, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The largest id a primary key holds (PostgreSQL INTEGER): larger values cannot name a row, and unguarded they
# fail in the database driver (SQLite: "Python int too large to convert").
ID_MAX = 2**31 - 1

# Data classification: columns holding personal data carry ``info=PERSONAL``; see :func:`personal_fields`. They are
# stored encrypted (elearn.security.fields.EncryptedText); one that needs no encryption says so and why, as
# ``{**PERSONAL, "encrypted": False, "why": …}`` (a password's one-way hash), and tests/security checks both.
PERSONAL = {"personal": True}


class Base(DeclarativeBase):
    """The declarative base of every model: typed for mypy (models derive from it, not from ``db.Model``),
    shared with Flask-SQLAlchemy so ``db.session`` and ``db.metadata`` see the same tables."""

    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Request rates (per address by default; routes choose other keys): memory in one process, Redis when
# ELEARN_REDIS_URL is set, so every web node counts together (config RATELIMIT_STORAGE_URI).
limiter = Limiter(key_func=get_remote_address)


_Row = TypeVar("_Row", bound=Base)


def existing(model: type[_Row], ident: Any) -> _Row:
    """``db.session.get`` of a row the caller knows exists (a foreign key it holds, a row it just read or
    locked): a missing one is a broken invariant, not a user's error, so it raises LookupError. Where the id
    comes from a request, use ``db.session.get`` and raise :class:`elearn.errors.NotFound` instead."""
    row = db.session.get(model, ident)
    if row is None:
        raise LookupError(f"{model.__name__} {ident!r} does not exist, though the caller holds its id")
    return row


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched. ``db.session.execute`` is typed as returning a plain Result; for these
    statements it is a CursorResult, which has ``rowcount``."""
    return cast(CursorResult[Any], result).rowcount


def personal_fields() -> dict[str, list[str]]:
    """Map table name → columns classified as personal data."""
    out: dict[str, list[str]] = {}
    for table in Base.metadata.sorted_tables:
        cols = [c.name for c in table.columns if c.info.get("personal")]
        if cols:
            out[table.name] = cols
    return out


def dialect_insert(connection: Connection | Any) -> Any:
    """``insert`` of the connection's dialect (SQLite or PostgreSQL), whose statements have
    ``on_conflict_do_nothing`` / ``on_conflict_do_update``. ``connection``: a Connection, Session or Engine."""
    bind = connection.get_bind() if hasattr(connection, "get_bind") else connection
    name = bind.dialect.name
    if name == "sqlite":
        return sqlite.insert
    if name == "postgresql":
        return postgresql.insert
    raise NotImplementedError(f"INSERT … ON CONFLICT is needed and {name} is not a supported database")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer. (The busy timeout, which makes writers queue instead of failing,
    is the connection's ``timeout``: ELEARN_SQLITE_BUSY_TIMEOUT_S, set in create_app.)"""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
