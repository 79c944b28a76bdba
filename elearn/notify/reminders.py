"""The daily reminders: which fan-outs (:mod:`elearn.notify.events`) today's run starts. Each member is told
of a series due soon once, and of being behind pace once a week, by the notifications' own ``dedupe_key``: a
rerun, a second worker or a restart tells nobody twice."""
from __future__ import annotations

from elearn import clock
from elearn.notify import events, tasks


def enqueue_reminders() -> dict[str, int]:
    """Enqueue the fan-outs of today's reminders; returns how many of each kind were started."""
    today = clock.site_today()
    due = events.due_series_ids(today)
    opened = events.opened_series_ids(today)
    for series_id in opened:
        tasks.fan_out.enqueue("series_required", series_id)
    for series_id in due:
        tasks.fan_out.enqueue("series_due", series_id)
    tasks.fan_out.enqueue("behind_pace", events.pace_week(today))
    return {"series_required": len(opened), "series_due": len(due), "behind_pace": 1}
