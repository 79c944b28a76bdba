"""Jobs of notifications and e-mail: one attempt per queued message and a sweep every minute that retries the
messages whose back-off has passed (and any whose job was lost with its worker); fan-outs to many members in
batches; the daily reminders and the daily digest (hourly runs: each member is told once, so a missed hour or
a restart only delays them)."""
from __future__ import annotations

from elearn.notify import digest, events, reminders, services
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


@task(retries=3, retry_delay=30)
def fan_out(name: str, source: str | int) -> int:
    """Tell one batch of the audience of fan-out ``name`` (:mod:`elearn.notify.events`) about ``source``, then
    enqueue itself for the next batch while there are members left. Returns how many this batch told."""
    message = events.message_for(name, str(source))
    if message is None:
        return 0
    told = services.fan_out_batch(message)
    if told >= services.NOTIFY.fanout_batch:
        fan_out.enqueue(name, source)
    return told


@periodic(minute="23")
def daily_reminders() -> dict[str, int]:
    """Required series due within a week and not completed; members behind pace (once a week)."""
    return reminders.enqueue_reminders()


@periodic(minute="41")
def daily_digest() -> int:
    """One e-mail a day to each member who chose the digest and has something new."""
    return digest.send_digests()
