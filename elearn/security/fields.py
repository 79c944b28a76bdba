"""Encrypted columns and their keyed hashes.

A personal column is declared ``mapped_column(EncryptedText(100, "user_account.name"), info=PERSONAL)``: the
value is encrypted when bound and decrypted when loaded, so the rest of the app reads and writes plain strings.
Stored form: ``v1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>``, a random 96-bit nonce per value, and the
table and column as associated data, so a value copied into another column (or row of another table) fails its
tag instead of reading as the other field.

The ciphertext of a value changes each time it is written, so SQL can neither compare nor sort it: a column
that needs exact look-ups has a companion ``<col>_hash`` (``info=hashed_from("<col>")``) holding
``<key id>:<hex HMAC>`` of the normalised value, filled in on every flush; queries match
``col_hash.in_(lookup_hashes(value))`` (one hash per key of the ring, so look-ups keep working while a key
rotation is half done). Comparing the encrypted column itself in SQL raises TypeError, so a query that would
silently match nothing fails in the tests instead.
"""
from __future__ import annotations

import base64
import binascii
import functools
import hmac
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import Text, event, inspect
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from elearn.extensions import Base
from elearn.security import keyring
from elearn.security.keyring import Keyring, KeyringError, PiiKey

VERSION = "v1"
NONCE_BYTES = 12
TAG_BYTES = 16
_EXTENSION = "elearn_pii_keyring"


class DecryptionError(ValueError):
    """A stored value is not a ciphertext of this column under a key of the ring (tampered, copied from
    another column, or written in the clear behind the app's back)."""


def current_keyring() -> Keyring:
    """The keyring of the running app, read once per process (see :func:`elearn.security.keyring.load`)."""
    ring = current_app.extensions.get(_EXTENSION)
    if ring is None:
        ring = keyring.load(current_app.instance_path, current_app.config["ELEARN_PII_CIPHER"])
        current_app.extensions[_EXTENSION] = ring
    return ring


def reload_keyring() -> Keyring:
    """Forget the cached keyring and read it again (after a rotation by another process)."""
    current_app.extensions.pop(_EXTENSION, None)
    return current_keyring()


def _key_for(key_id: str) -> PiiKey:
    ring = current_keyring()
    if key_id not in ring.keys:
        # Another process (elearn security rotate-key) may have added the key since this one started.
        ring = reload_keyring()
    return ring.get(key_id)


@functools.lru_cache(maxsize=64)
def _derived(key: PiiKey, purpose: str) -> bytes:
    return key.derive(purpose)


def _aad(context: str) -> bytes:
    return f"elearn personal data {VERSION} {context}".encode()


def encrypt_with(key: PiiKey, plaintext: str, context: str) -> str:
    """``plaintext`` encrypted under ``key`` for the column ``context`` (``table.column``), in stored form."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    data, aad = plaintext.encode("utf-8"), _aad(context)
    secret = _derived(key, "encrypt")
    if key.cipher == "aes-gcm":
        sealed = AESGCM(secret).encrypt(nonce, data, aad)
    else:
        encryptor = Cipher(algorithms.SM4(secret), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad)
        sealed = encryptor.update(data) + encryptor.finalize() + encryptor.tag
    return f"{VERSION}:{key.id}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def key_id_of(stored: str) -> str | None:
    """The key id a stored value names, or None when it is not in the encrypted form."""
    parts = stored.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == VERSION else None


def decrypt_with(key_lookup: Any, stored: str, context: str) -> str:
    """The plaintext of ``stored`` (read for the column ``context``); ``key_lookup(id)`` gives the key it names.

    Raises:
        DecryptionError: not in the stored form, a key the ring lacks, or a tag that does not verify (the value
            was altered, or belongs to another column).
    """
    key_id = key_id_of(stored)
    if key_id is None:
        raise DecryptionError(f"{context}: the stored value is not encrypted")
    try:
        key = key_lookup(key_id)
        blob = base64.b64decode(stored.split(":", 2)[2], validate=True)
    except (KeyringError, binascii.Error) as exc:
        raise DecryptionError(f"{context}: {exc}") from exc
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError(f"{context}: the stored value is truncated")
    nonce, sealed, aad = blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(context)
    secret = _derived(key, "encrypt")
    try:
        if key.cipher == "aes-gcm":
            data = AESGCM(secret).decrypt(nonce, sealed, aad)
        else:
            decryptor = Cipher(algorithms.SM4(secret), modes.GCM(nonce, sealed[-TAG_BYTES:])).decryptor()
            decryptor.authenticate_additional_data(aad)
            data = decryptor.update(sealed[:-TAG_BYTES]) + decryptor.finalize()
    except InvalidTag:
        raise DecryptionError(f"{context}: the stored value fails its authentication tag") from None
    return data.decode("utf-8")


def normalised(value: str) -> str:
    """The form a value is hashed in: look-ups ignore surrounding spaces and letter case."""
    return value.strip().casefold()


def keyed_hash_with(key: PiiKey, value: str) -> str:
    """``<key id>:<hex>``: HMAC (SHA-256, or SM3 for an SM4 key) of the normalised ``value``."""
    algorithm = "sha256" if key.cipher == "aes-gcm" else "sm3"
    digest = hmac.new(_derived(key, "hash"), normalised(value).encode("utf-8"), algorithm).hexdigest()
    return f"{key.id}:{digest}"


def lookup_hashes(value: str) -> list[str]:
    """Every hash ``value`` may be stored under (one per key of the ring), for ``col_hash.in_(…)``."""
    return [keyed_hash_with(k, value) for k in current_keyring().keys.values()]


def hashed_from(column: str) -> dict[str, Any]:
    """``info`` of a keyed-hash column filled from the encrypted ``column`` of the same row."""
    return {"hash_of": column}


class EncryptedText(TypeDecorator[str]):
    """A personal text column stored encrypted (see the module). ``length``: the most characters the plain value
    may have (checked by the app's rules; the stored text is longer); ``context``: ``table.column``, bound into
    every ciphertext."""

    impl = Text
    cache_ok = True

    def __init__(self, length: int, context: str):
        super().__init__()
        self.length = length
        self.context = context

    class Comparator(TypeDecorator.Comparator[str]):
        """SQL sees only ciphertext: equality, ordering and LIKE would silently match nothing, so they raise."""

        _REFUSED = {operators.eq, operators.ne, operators.lt, operators.le, operators.gt, operators.ge,
                    operators.like_op, operators.ilike_op, operators.not_like_op, operators.not_ilike_op,
                    operators.contains_op, operators.startswith_op, operators.endswith_op, operators.in_op,
                    operators.not_in_op, operators.between_op, operators.asc_op, operators.desc_op}

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op in self._REFUSED and not (op in (operators.eq, operators.ne) and other and other[0] is None):
                raise TypeError(f"{self.expr} is encrypted: SQL cannot compare or sort it (use its keyed hash, "
                                "or sort in Python)")
            return super().operate(op, *other, **kwargs)

    comparator_factory = Comparator

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return encrypt_with(current_keyring().current_key, value, self.context)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return decrypt_with(_key_for, value, self.context)


@functools.cache
def _hash_columns(mapper: Any) -> tuple[tuple[str, str], ...]:
    """(hash attribute, source attribute) of a mapped class: computed once, as every flush of every row asks."""
    return tuple((c.key, c.info["hash_of"]) for c in mapper.columns if "hash_of" in c.info)


def _fill_hashes(mapper: Any, _connection: Any, target: Any) -> None:
    """Keyed hashes follow their column on every insert and on updates that change it."""
    pairs = _hash_columns(mapper)
    if not pairs:
        return
    state = inspect(target)
    for hash_attr, source in pairs:
        if state.has_identity and not state.attrs[source].history.has_changes():
            continue
        value = getattr(target, source)
        setattr(target, hash_attr, None if value is None else keyed_hash_with(current_keyring().current_key, value))


event.listen(Base, "before_insert", _fill_hashes, propagate=True)
event.listen(Base, "before_update", _fill_hashes, propagate=True)
