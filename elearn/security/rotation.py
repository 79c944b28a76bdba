"""Re-encryption of every personal value under the current key: key rotation, and the first encryption of rows
written in the clear before personal data was encrypted (the migration).

Works on the stored text, table by table in primary-key order, a batch per transaction. Each value is whole under
one key of the ring at every moment, so a rotation stopped anywhere (a crash, a kill) leaves every value readable
and is finished by running it again. A row the app changed between the read and the write is left alone (the
write names the values it read) and counted, so a rerun picks it up.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from elearn.extensions import Base, db
from elearn.policy import PERSONAL_DATA
from elearn.security import keyring as keyrings
from elearn.security.fields import (
    EncryptedText,
    current_keyring,
    decrypt_with,
    encrypt_with,
    key_id_of,
    keyed_hash_with,
    reload_keyring,
)
from elearn.security.keyring import Keyring, KeyringError


@dataclass(frozen=True)
class EncryptedTable:
    """A table's encrypted columns and keyed hashes: ``hashes`` are (hash column, encrypted column) pairs."""

    name: str
    key: str
    encrypted: tuple[str, ...]
    hashes: tuple[tuple[str, str], ...] = ()


def encrypted_tables() -> list[EncryptedTable]:
    """Every table of the models with an encrypted column (the classification in the models is the list)."""
    out = []
    for table in Base.metadata.sorted_tables:
        encrypted = tuple(c.name for c in table.columns if isinstance(c.type, EncryptedText))
        if encrypted:
            (key,) = [c.name for c in table.primary_key.columns]
            hashes = tuple((c.name, c.info["hash_of"]) for c in table.columns if "hash_of" in c.info)
            out.append(EncryptedTable(table.name, key, encrypted, hashes))
    return out


@dataclass
class Progress:
    """What a re-encryption did: rows read and rewritten per table, and rows the app changed meanwhile."""

    read: dict[str, int] = field(default_factory=dict)
    rewritten: dict[str, int] = field(default_factory=dict)
    raced: int = 0

    @property
    def total_rewritten(self) -> int:
        return sum(self.rewritten.values())


def _batch(conn: Connection, spec: EncryptedTable, ring: Keyring, after: Any, size: int,
           accept_plaintext: bool, progress: Progress) -> Any:
    """Re-encrypt up to ``size`` rows after the key ``after``; the last key read (None when the table is done)."""
    hash_cols = tuple(h for h, _src in spec.hashes)
    table = sa.table(spec.name, *(sa.column(c) for c in (spec.key, *spec.encrypted, *hash_cols)))
    pk = table.c[spec.key]
    stmt = sa.select(table).order_by(pk).limit(size)
    if after is not None:
        stmt = stmt.where(pk > after)
    rows = conn.execute(stmt).mappings().all()
    current = ring.current_key
    for row in rows:
        plain: dict[str, str | None] = {}
        changes: dict[str, str | None] = {}
        for col in spec.encrypted:
            stored = row[col]
            if stored is None:
                plain[col] = None
                continue
            key_id = key_id_of(stored)
            if key_id is None and accept_plaintext:
                plain[col] = stored
            else:
                plain[col] = decrypt_with(ring.get, stored, f"{spec.name}.{col}")
            if key_id != current.id:
                changes[col] = encrypt_with(current, plain[col] or "", f"{spec.name}.{col}")
        for hash_col, source in spec.hashes:
            value = plain[source]
            wanted = None if value is None else keyed_hash_with(current, value)
            if row[hash_col] != wanted:
                changes[hash_col] = wanted
        progress.read[spec.name] = progress.read.get(spec.name, 0) + 1
        if not changes:
            continue
        # Only if the row still holds what was read: a value the app wrote meanwhile is not overwritten.
        unchanged = [table.c[c].is_(None) if row[c] is None else table.c[c] == row[c] for c in changes]
        done = conn.execute(sa.update(table).where(pk == row[spec.key], *unchanged).values(changes))
        if done.rowcount:
            progress.rewritten[spec.name] = progress.rewritten.get(spec.name, 0) + 1
        else:
            progress.raced += 1
    return rows[-1][spec.key] if len(rows) == size else None


def reencrypt_in(conn: Connection, ring: Keyring, tables: list[EncryptedTable], *, accept_plaintext: bool = False,
                 batch: int | None = None) -> Progress:
    """Re-encrypt every value of ``tables`` under the ring's current key inside the caller's transaction (the
    migration's). ``accept_plaintext``: values not yet in the encrypted form are taken as plain text.

    Raises:
        DecryptionError: a stored value fails to decrypt (nothing is changed: the transaction is the caller's).
    """
    progress = Progress()
    for spec in tables:
        after = None
        while True:
            after = _batch(conn, spec, ring, after, batch or PERSONAL_DATA.rotation_batch_rows, accept_plaintext,
                           progress)
            if after is None:
                break
    return progress


def count_rows(tables: list[EncryptedTable]) -> int:
    """Rows of ``tables`` (the denominator of the progress bar)."""
    with db.engine.connect() as conn:
        return sum(conn.execute(sa.select(sa.func.count()).select_from(sa.table(t.name))).scalar_one()
                   for t in tables)


def reencrypt(*, batch: int | None = None, on_progress: Callable[[float], None] | None = None) -> Progress:
    """Re-encrypt every personal value and keyed hash of the database under the current key, a batch per
    transaction (see the module); ``on_progress(fraction)`` after each batch.

    Raises:
        DecryptionError: a stored value fails to decrypt (the batches before it are kept: each is complete).
    """
    ring = reload_keyring()
    tables = encrypted_tables()
    total = max(count_rows(tables), 1)
    progress = Progress()
    size = batch or PERSONAL_DATA.rotation_batch_rows
    for spec in tables:
        after = None
        while True:
            with db.engine.begin() as conn:
                after = _batch(conn, spec, ring, after, size, False, progress)
            if on_progress is not None:
                on_progress(min(sum(progress.read.values()) / total, 1.0))
            if after is None:
                break
    return progress


def add_key(cipher: str) -> str:
    """Add a fresh key to the keyring file and make it current; the new key's id.

    Raises:
        KeyringError: the keys come from the environment, or ``cipher`` is unknown.
    """
    ring = current_keyring()
    if ring.path is None:
        raise KeyringError(f"the keys come from {keyrings.ENV_NAME}: put a new key first in it, then run "
                           "`elearn security rotate-key --resume`")
    key = keyrings.new_key(keyrings.next_key_id(ring), cipher)
    keyrings.save(Keyring({**ring.keys, key.id: key}, key.id, ring.path))
    reload_keyring()
    return key.id


def usage() -> dict[str, int]:
    """How many stored values (encrypted values and keyed hashes) name each key id, over the whole database."""
    counts: dict[str, int] = {}
    with db.engine.connect() as conn:
        for spec in encrypted_tables():
            cols = (*spec.encrypted, *(h for h, _src in spec.hashes))
            table = sa.table(spec.name, *(sa.column(c) for c in cols))
            for col in cols:
                for (stored,) in conn.execute(sa.select(table.c[col]).where(table.c[col].is_not(None))):
                    key_id = key_id_of(stored) if col in spec.encrypted else stored.split(":", 1)[0]
                    counts[key_id or "(clear)"] = counts.get(key_id or "(clear)", 0) + 1
    return counts


def retire_old_keys() -> list[str]:
    """Remove every key but the current one from the keyring file, once no stored value names them; the ids
    removed.

    Raises:
        KeyringError: a value still names an old key (run the rotation again), or the keys come from the
            environment.
    """
    ring = reload_keyring()
    if ring.path is None:
        raise KeyringError(f"the keys come from {keyrings.ENV_NAME}: remove old keys from it")
    still = {k: n for k, n in usage().items() if k != ring.current}
    if still:
        raise KeyringError("values still under old keys: " + ", ".join(f"{k}: {n}" for k, n in sorted(still.items())))
    old = [k for k in ring.keys if k != ring.current]
    keyrings.save(Keyring({ring.current: ring.current_key}, ring.current, ring.path))
    reload_keyring()
    return old
