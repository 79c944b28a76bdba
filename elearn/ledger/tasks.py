"""Jobs of the ledger: an hourly signed checkpoint of the hash chain and a daily verification of all of it."""
from __future__ import annotations

from elearn.ledger import chain, integrity
from elearn.queue import periodic


@periodic(minute="7")
def checkpoint_ledger() -> int:
    """Sign the chain's head (nothing when no entry was added since the last checkpoint)."""
    row = chain.checkpoint()
    return row.seq if row is not None else 0


@periodic(hour="3", minute="17")
def verify_ledger() -> bool:
    """Walk the whole chain; a broken one is recorded in the audit log and logged as an error."""
    return integrity.verify_and_record().ok
