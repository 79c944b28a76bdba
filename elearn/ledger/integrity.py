"""The ledger's integrity as the site runs it: verification recorded in the audit log (and logged as an error
when broken, for the site's alerting), hourly checkpoints, the upgrade step that chains old entries."""
from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import func, select

from elearn.audit import services as audit
from elearn.extensions import db
from elearn.ledger import chain
from elearn.ledger.models import LedgerChain, StudyCredit

log = logging.getLogger(__name__)


def entry_count() -> int:
    return int(db.session.execute(select(func.count()).select_from(StudyCredit)).scalar_one())


def verify_and_record(progress: Callable[[int], None] | None = None) -> chain.Verification:
    """Verify the chain and keep the result in the audit log (``ledger.verify`` or ``ledger.broken``)."""
    result = chain.verify(progress=progress)
    db.session.rollback()  # the walk only read; nothing of it stays in the session
    head = db.session.get(LedgerChain, 1) or LedgerChain(id=1, seq=0, head_hash=chain.GENESIS)
    audit.record(None, "ledger.verify" if result.ok else "ledger.broken", head, after=result.to_dict())
    db.session.commit()
    if not result.ok:
        log.error("ledger verification failed (%s): %s", result.problem, result.message)
    return result


def seal_unchained() -> int:
    """Chain the entries written before the chain existed; audited."""
    ids = chain.unchained_ids()
    if not ids:
        return 0
    count = chain.seal_unchained(ids)
    head = db.session.get(LedgerChain, 1)
    audit.record(None, "ledger.seal", head, after={"entries": count, "first_id": ids[0], "last_id": ids[-1]})
    db.session.commit()
    return count
