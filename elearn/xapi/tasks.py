"""Jobs of the xAPI outbox: every minute, the due statements go to the LRS (nothing when none is configured)."""
from __future__ import annotations

from elearn.queue import periodic
from elearn.xapi import services


@periodic(minute="*")
def flush_statements() -> int:
    """Send the due statements in batches; returns how many the LRS stored."""
    return services.flush().sent
