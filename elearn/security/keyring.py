"""The keys of personal data: several, one current, each named by a short id that every ciphertext carries.

Kept in ``instance/pii_keys.json`` (generated once, mode 0600, never committed, never inside the database or its
backups) or given by ``ELEARN_PII_KEYS`` (``id:cipher:base64-secret`` entries separated by commas, the first
current), so a copy of the database file alone reads as ciphertext.

Each entry is a 32-byte random master secret and the cipher it encrypts with; the encryption key and the key of
the keyed hashes are derived from it with HKDF (SHA-256 for AES, SM3 for SM4), so the two uses never share a key.
"""
from __future__ import annotations

import base64
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CIPHERS = ("aes-gcm", "sm4-gcm")
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
FILENAME = "pii_keys.json"
ENV_NAME = "ELEARN_PII_KEYS"
# Key lengths of the ciphers: AES-256, SM4 (128-bit block and key).
_KEY_BYTES = {"aes-gcm": 32, "sm4-gcm": 16}


class KeyringError(RuntimeError):
    """The keyring is missing, malformed, or does not hold the key a value names."""


def _kdf_hash(cipher: str) -> hashes.HashAlgorithm:
    # SM4 keys are derived and their hashes keyed with SM3, so an SM4 deployment uses the national algorithms only.
    return hashes.SM3() if cipher == "sm4-gcm" else hashes.SHA256()


@dataclass(frozen=True)
class PiiKey:
    """One key of the ring: ``secret`` is the master secret, ``cipher`` one of :data:`CIPHERS`."""

    id: str
    cipher: str
    secret: bytes = field(repr=False)

    def derive(self, purpose: str) -> bytes:
        """The key for ``purpose`` (``encrypt`` or ``hash``) derived from the master secret."""
        length = _KEY_BYTES[self.cipher] if purpose == "encrypt" else 32
        return HKDF(algorithm=_kdf_hash(self.cipher), length=length, salt=None,
                    info=f"elearn personal data {purpose} {self.cipher}".encode()).derive(self.secret)


@dataclass
class Keyring:
    """The keys (``keys`` by id), which one encrypts new values (``current``), and where they came from
    (``path`` None: the environment, which the app never rewrites)."""

    keys: dict[str, PiiKey]
    current: str
    path: Path | None = None

    @property
    def current_key(self) -> PiiKey:
        return self.keys[self.current]

    def get(self, key_id: str) -> PiiKey:
        try:
            return self.keys[key_id]
        except KeyError:
            raise KeyringError(f"personal data key {key_id!r} is not in the keyring") from None


def new_key(key_id: str, cipher: str) -> PiiKey:
    """A fresh random key. Raises KeyringError for an unknown cipher or a malformed id."""
    if cipher not in CIPHERS:
        raise KeyringError(f"unknown personal data cipher {cipher!r} (one of {', '.join(CIPHERS)})")
    if not KEY_ID.match(key_id):
        raise KeyringError(f"a key id is 1-16 letters, digits, _ or -: {key_id!r}")
    return PiiKey(key_id, cipher, secrets.token_bytes(32))


def parse_env(value: str) -> Keyring:
    """The keyring given as ``ELEARN_PII_KEYS`` (``id:cipher:base64``, comma-separated, the first current)."""
    keys: dict[str, PiiKey] = {}
    for entry in [e.strip() for e in value.split(",") if e.strip()]:
        parts = entry.split(":")
        if len(parts) != 3:
            raise KeyringError(f"{ENV_NAME} entries are id:cipher:base64-secret")
        key_id, cipher, secret = parts
        keys[key_id] = _checked(key_id, cipher, secret)
    if not keys:
        raise KeyringError(f"{ENV_NAME} names no key")
    return Keyring(keys, next(iter(keys)))


def _checked(key_id: str, cipher: str, secret_b64: str) -> PiiKey:
    if cipher not in CIPHERS or not KEY_ID.match(key_id):
        raise KeyringError(f"personal data key {key_id!r}: bad id or cipher {cipher!r}")
    try:
        secret = base64.b64decode(secret_b64, validate=True)
    except ValueError:
        raise KeyringError(f"personal data key {key_id!r}: the secret is not base64") from None
    if len(secret) < 16:
        raise KeyringError(f"personal data key {key_id!r}: the secret is shorter than 16 bytes")
    return PiiKey(key_id, cipher, secret)


def _read_file(path: Path) -> Keyring:
    try:
        data = json.loads(path.read_text())
        keys = {k: _checked(k, v["cipher"], v["secret"]) for k, v in data["keys"].items()}
        current = data["current"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyringError(f"cannot read the personal data keyring {path}: {exc}") from exc
    if current not in keys:
        raise KeyringError(f"the personal data keyring {path} names a current key it does not hold")
    return Keyring(keys, current, path)


def _serialise(ring: Keyring) -> str:
    return json.dumps({"current": ring.current,
                       "keys": {k.id: {"cipher": k.cipher, "secret": base64.b64encode(k.secret).decode()}
                                for k in ring.keys.values()}}, indent=2)


def load(instance_path: str, cipher: str, environ: Mapping[str, str] | None = None) -> Keyring:
    """The keyring of the site: ``ELEARN_PII_KEYS`` if set, else ``instance/pii_keys.json``, generated once
    (first key ``k1`` with ``cipher``) when missing.

    Raises:
        KeyringError: the variable or the file is malformed.
    """
    env = os.environ if environ is None else environ
    if env.get(ENV_NAME):
        return parse_env(env[ENV_NAME])
    path = Path(instance_path) / FILENAME
    if path.exists():
        return _read_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ring = Keyring({"k1": new_key("k1", cipher)}, "k1", path)
    # O_EXCL: two workers starting together must agree on one keyring (as load_secret_key does).
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_file(path)
    with os.fdopen(fd, "w") as fh:
        fh.write(_serialise(ring))
    return ring


def save(ring: Keyring) -> None:
    """Write the keyring back to its file, atomically (a crash leaves the old file or the new one, whole).

    Raises:
        KeyringError: the keyring came from the environment, which the app cannot change.
    """
    if ring.path is None:
        raise KeyringError(f"the keys come from {ENV_NAME}: change the variable instead")
    tmp = ring.path.with_name(ring.path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(_serialise(ring))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, ring.path)


def next_key_id(ring: Keyring) -> str:
    """``k<n+1>`` after the highest ``k<n>`` of the ring."""
    numbers = [int(k[1:]) for k in ring.keys if re.fullmatch(r"k[0-9]+", k)]
    return f"k{max(numbers, default=0) + 1}"
