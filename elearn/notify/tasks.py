"""Jobs of e-mail delivery: one attempt per queued message, and a sweep every minute that retries the messages
whose back-off has passed (and any whose job was lost with its worker)."""
from __future__ import annotations

from elearn.notify import services
from elearn.queue import periodic, task


@task()
def deliver_email(outbox_id: int) -> str:
    """Send one outbox message. A failure is recorded on its row and retried by the sweep, not by Huey: the
    row's back-off survives a restart of every worker."""
    return services.deliver(outbox_id)


@periodic(minute="*")
def sweep_outbox() -> dict[str, int]:
    """Retry the pending messages that are due."""
    return services.deliver_due()
