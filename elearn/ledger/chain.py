"""The ledger's hash chain (防篡改): every credit is chained to the one before it and signed checkpoints anchor it.

Each ledger row takes the next position ``chain_seq`` of one chain over the whole ledger; its ``entry_hash`` is
``H(canonical content + chain_seq + prev_hash)`` with ``H`` SHA-256 or SM3 (``ELEARN_LEDGER_HASH``; each row
names its own). The head row (:class:`LedgerChain`) holds the last position and hash; taking a position is an
UPDATE of it, which serialises credits on the chain on PostgreSQL (a row lock held to commit) and SQLite alike.
A credit that turns out to be a duplicate gives its position back in the same transaction.

Checkpoints (:func:`checkpoint`, a periodic job) sign ``(seq, entry_hash, time)`` of the head with an Ed25519
key kept outside the database and append a copy to a file outside it too. :func:`verify` walks the chain and
reports the first broken entry: content that no longer matches its hash, a link to a different predecessor,
a missing position, rows outside the chain, a head that does not match the last entry (rows removed from the
end), and checkpoints whose signature fails or whose entry changed or vanished. Someone who can write to the
database can rewrite the chain after an edit, but not the signatures, nor the copy of the anchors.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from elearn import clock
from elearn.extensions import db, dialect_insert
from elearn.ledger.models import LedgerChain, LedgerCheckpoint, StudyCredit

ALGORITHMS: dict[str, Callable[[], hashes.HashAlgorithm]] = {"sha256": hashes.SHA256, "sm3": hashes.SM3}
#: The predecessor of the first entry.
GENESIS = "0" * 64
#: What an entry's hash covers (besides its position and predecessor): everything it states.
CONTENT_FIELDS = ("user_id", "hours", "kind", "source_kind", "source_id", "course_id", "title", "category",
                  "innovative_theory", "offjob", "county_level", "credited_on", "organisation_id",
                  "recorded_by_id", "note", "created_at")
_HEAD_ID = 1


def algorithm() -> str:
    """The hash algorithm of new entries (``ELEARN_LEDGER_HASH``)."""
    name = current_app.config.get("ELEARN_LEDGER_HASH", "sha256")
    if name not in ALGORITHMS:
        raise RuntimeError(f"ELEARN_LEDGER_HASH must be one of {', '.join(ALGORITHMS)}, not {name!r}")
    return name


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)  # exact: a float column gives back the same double
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    return str(value)


def canonical(values: dict[str, Any], seq: int, prev_hash: str) -> bytes:
    """The bytes an entry's hash covers (sorted keys, no whitespace, UTF-8)."""
    doc = {name: _plain(values.get(name)) for name in CONTENT_FIELDS}
    if isinstance(doc["hours"], int):
        doc["hours"] = repr(float(doc["hours"]))
    doc |= {"seq": seq, "prev": prev_hash}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def digest(alg: str, data: bytes) -> str:
    """Hex digest of ``data`` with ``alg`` (``sha256`` or ``sm3``)."""
    h = hashes.Hash(ALGORITHMS[alg]())
    h.update(data)
    return h.finalize().hex()


def entry_hash_of(values: dict[str, Any], seq: int, prev_hash: str, alg: str) -> str:
    return digest(alg, canonical(values, seq, prev_hash))


# --- writing ---------------------------------------------------------------------------------------

def _take_position(conn: Connection) -> tuple[int, str]:
    """Advance the head by one (the row lock that orders credits) and return (position, previous hash)."""
    for _ in range(2):
        row = conn.execute(update(LedgerChain).where(LedgerChain.id == _HEAD_ID).values(seq=LedgerChain.seq + 1)
                           .returning(LedgerChain.seq, LedgerChain.head_hash)).first()
        if row is not None:
            return int(row[0]), str(row[1])
        conn.execute(dialect_insert(conn)(LedgerChain).values(id=_HEAD_ID, seq=0, head_hash=GENESIS)
                     .on_conflict_do_nothing(index_elements=["id"]))
    raise RuntimeError("the ledger chain's head row could not be created")


@dataclass
class Link:
    """A position taken on the chain for one entry."""

    seq: int
    prev_hash: str
    entry_hash: str


def seal(conn: Connection, values: dict[str, Any]) -> Link:
    """Chain a new entry: take the next position, hash ``values`` onto the head, move the head to it.

    Sets ``created_at`` (to the second, as the hash covers it), ``chain_seq``, ``prev_hash``, ``entry_hash``
    and ``hash_alg`` in ``values``. If the entry is then not inserted (a duplicate), call :func:`unseal`.
    """
    values["created_at"] = values.get("created_at") or clock.now_utc().replace(tzinfo=None, microsecond=0)
    seq, prev = _take_position(conn)
    alg = algorithm()
    link = Link(seq=seq, prev_hash=prev, entry_hash=entry_hash_of(values, seq, prev, alg))
    conn.execute(update(LedgerChain).where(LedgerChain.id == _HEAD_ID).values(head_hash=link.entry_hash))
    values.update(chain_seq=seq, prev_hash=prev, entry_hash=link.entry_hash, hash_alg=alg)
    return link


def unseal(conn: Connection, link: Link) -> None:
    """Give back the position of an entry that was not inserted (same transaction, head still locked)."""
    conn.execute(update(LedgerChain).where(LedgerChain.id == _HEAD_ID, LedgerChain.seq == link.seq)
                 .values(seq=link.seq - 1, head_hash=link.prev_hash))


def _values_of(entry: StudyCredit) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in CONTENT_FIELDS}


def seal_orm_entry(conn: Connection, entry: StudyCredit) -> None:
    """Chain an entry added through the ORM (``before_insert``): the same rule as :func:`seal`.

    Column defaults are applied first: the INSERT would otherwise store a default the hash did not cover.
    """
    for name in CONTENT_FIELDS:
        default = StudyCredit.__table__.c[name].default
        if getattr(entry, name) is None and default is not None and default.is_scalar:
            setattr(entry, name, default.arg)
    values = _values_of(entry)
    seal(conn, values)
    for name in ("created_at", "chain_seq", "prev_hash", "entry_hash", "hash_alg"):
        setattr(entry, name, values[name])


# --- signing ---------------------------------------------------------------------------------------

def _signing_key() -> Ed25519PrivateKey:
    """The checkpoint key (PEM at ``ELEARN_LEDGER_SIGNING_KEY_FILE``), generated once when missing."""
    return ed25519_key_file(Path(current_app.config["ELEARN_LEDGER_SIGNING_KEY_FILE"]))


def ed25519_key_file(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in PEM at ``path``, generated there once (mode 0600) when missing. There is no
    other key to fall back to: an unreadable or foreign file is an error (the ledger's checkpoints and the
    certificates each have their own file)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        try:  # O_EXCL: two workers starting together must agree on one key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError(f"{path} does not hold an Ed25519 private key")
    return key


def _key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def checkpoint_message(seq: int, entry_hash: str, created_at: datetime) -> bytes:
    """What a checkpoint's signature covers."""
    return f"elearn-ledger-checkpoint|{seq}|{entry_hash}|{_plain(created_at)}".encode()


def checkpoint() -> LedgerCheckpoint | None:
    """Sign the chain's head now (None when the ledger is empty or the head is already anchored); commits."""
    head = db.session.get(LedgerChain, _HEAD_ID)
    if head is None or head.seq == 0:
        return None
    last = db.session.execute(select(LedgerCheckpoint).order_by(LedgerCheckpoint.seq.desc()).limit(1)).scalar()
    if last is not None and last.seq == head.seq:
        return None
    key = _signing_key()
    at = clock.now_utc().replace(tzinfo=None, microsecond=0)
    signature = key.sign(checkpoint_message(head.seq, head.head_hash, at)).hex()
    row = LedgerCheckpoint(seq=head.seq, entry_hash=head.head_hash, created_at=at,
                           key_id=_key_id(key.public_key()), signature=signature)
    db.session.add(row)
    db.session.commit()
    anchor = {"seq": row.seq, "entry_hash": row.entry_hash, "created_at": _plain(at), "key_id": row.key_id,
              "signature": signature}
    with open(current_app.config["ELEARN_LEDGER_ANCHOR_FILE"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(anchor, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return row


# --- verifying -------------------------------------------------------------------------------------

@dataclass
class Verification:
    """What :func:`verify` found: ``ok``, or the first broken entry and why."""

    entries: int = 0
    checkpoints: int = 0
    problem: str | None = None  # a code: content, link, gap, unchained, head, checkpoint, anchor
    message: str | None = None
    entry_id: int | None = None
    seq: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "checkpoints": self.checkpoints, "problem": self.problem,
                "message": self.message, "entry_id": self.entry_id, "seq": self.seq}


def _anchors() -> list[dict[str, Any]]:
    path = Path(current_app.config["ELEARN_LEDGER_ANCHOR_FILE"])
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a torn last line of a crash; the checkpoint itself is in the database
    return out


def verify(progress: Callable[[int], None] | None = None, batch: int = 2000) -> Verification:
    """Walk the whole chain and its checkpoints; report the first problem found.

    Args:
        progress: called with the number of entries checked so far, every ``batch`` entries.
        batch: rows read per round trip.
    """
    result = Verification()
    public = _signing_key().public_key()
    checkpoints = list(db.session.execute(select(LedgerCheckpoint).order_by(LedgerCheckpoint.seq)).scalars())
    result.checkpoints = len(checkpoints)
    for cp in checkpoints:
        try:
            public.verify(bytes.fromhex(cp.signature), checkpoint_message(cp.seq, cp.entry_hash, cp.created_at))
        except (InvalidSignature, ValueError):
            return _broken(result, "checkpoint", f"checkpoint {cp.id} (entry {cp.seq}) has an invalid signature",
                           seq=cp.seq)
    in_db = {(cp.seq, cp.entry_hash, cp.signature) for cp in checkpoints}
    for anchor in _anchors():
        if anchor.get("key_id") != _key_id(public):
            continue  # signed by an earlier key: its checkpoints were checked with that key when it was current
        if (anchor.get("seq"), anchor.get("entry_hash"), anchor.get("signature")) not in in_db:
            return _broken(result, "anchor", f"the checkpoint of entry {anchor.get('seq')} kept outside the "
                           "database is missing from it or differs", seq=anchor.get("seq"))
    expected = {cp.seq: cp.entry_hash for cp in checkpoints}
    unchained = db.session.execute(select(func.count()).select_from(StudyCredit)
                                   .where(StudyCredit.chain_seq.is_(None))).scalar_one()
    prev, want_seq, last_id = GENESIS, 1, 0
    while True:
        rows = list(db.session.execute(select(StudyCredit).where(StudyCredit.chain_seq >= want_seq)
                                       .order_by(StudyCredit.chain_seq).limit(batch)).scalars())
        for row in rows:
            if row.chain_seq != want_seq:
                last_missing = int(row.chain_seq or 0) - 1
                return _broken(result, "gap", f"entries {want_seq}–{last_missing} of the chain are missing "
                               f"(before entry {row.id})", row)
            if row.prev_hash != prev:
                return _broken(result, "link", f"entry {row.id} is not linked to the entry before it", row)
            if row.hash_alg not in ALGORITHMS or \
                    entry_hash_of(_values_of(row), row.chain_seq, prev, row.hash_alg) != row.entry_hash:
                return _broken(result, "content", f"entry {row.id} no longer matches its hash: it was changed "
                               "after it was written", row)
            if row.chain_seq in expected and expected.pop(row.chain_seq) != row.entry_hash:
                return _broken(result, "checkpoint", f"entry {row.id} differs from its signed checkpoint", row)
            prev, want_seq, last_id = row.entry_hash, want_seq + 1, row.id
            result.entries += 1
        if progress is not None and rows:
            progress(result.entries)
        if len(rows) < batch:
            break
        db.session.expunge_all()  # a walk over millions of rows keeps no more than one batch in memory
    head = db.session.get(LedgerChain, _HEAD_ID)
    head_seq, head_hash = (head.seq, head.head_hash) if head is not None else (0, GENESIS)
    if expected:
        seq = min(expected)
        return _broken(result, "checkpoint", f"the signed checkpoint's entry {seq} is gone", seq=seq)
    if head_seq != want_seq - 1 or head_hash != prev:
        return _broken(result, "head", f"the chain ends at entry {want_seq - 1} but its head says {head_seq}: "
                       "entries were removed from its end", seq=want_seq)
    if unchained:
        return _broken(result, "unchained", f"{unchained} entries are outside the chain (written behind the "
                       "app's back)")
    result.details["last_entry_id"] = last_id
    return result


def _broken(result: Verification, problem: str, message: str, row: StudyCredit | None = None,
            seq: int | None = None) -> Verification:
    result.problem, result.message = problem, message
    if row is not None:
        result.entry_id, result.seq = row.id, row.chain_seq
    else:
        result.seq = seq
    return result


def unchained_ids() -> list[int]:
    """Entries outside the chain (rows written before the chain existed, or behind the app's back)."""
    return list(db.session.execute(select(StudyCredit.id).where(StudyCredit.chain_seq.is_(None))
                                   .order_by(StudyCredit.id)).scalars())


def seal_unchained(ids: list[int]) -> int:
    """Append rows outside the chain to it, in id order (the upgrade step for a ledger older than the chain).

    Uses Core statements: the ORM forbids updating ledger rows, and only these columns change."""
    conn = db.session.connection()
    for entry_id in ids:
        entry = db.session.get(StudyCredit, entry_id)
        if entry is None or entry.chain_seq is not None:
            continue
        values = _values_of(entry)
        seal(conn, values)
        conn.execute(update(StudyCredit).where(StudyCredit.id == entry_id).values(
            chain_seq=values["chain_seq"], prev_hash=values["prev_hash"],
            entry_hash=values["entry_hash"], hash_alg=values["hash_alg"]))
        db.session.expire(entry)
    db.session.commit()
    return len(ids)

