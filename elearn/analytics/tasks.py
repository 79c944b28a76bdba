"""Jobs of the analytics dashboard: snapshots of the whole tree, and XLSX exports."""
from __future__ import annotations

from elearn.analytics import exports as report_exports
from elearn.analytics import sources as snapshots
from elearn.policy import ANALYTICS
from elearn.queue import periodic, task


@task()
def analytics_snapshot(snapshot_id: int) -> int | None:
    """Compute and store the grouped dashboard rows of every organisation."""
    snap = snapshots.take_snapshot(snapshot_id)
    return snap.id if snap is not None else None


@task()
def export_analytics(export_id: int) -> None:
    """Write the dashboard workbook an admin asked for."""
    report_exports.run_analytics_export(export_id)


@periodic(minute=f"*/{ANALYTICS.snapshot_every_minutes}")
def analytics_refresh() -> int | None:
    """Queue a snapshot when the data changed (only where some subtree is too large to compute live), and
    remove expired exports."""
    report_exports.expire_exports()
    snap = snapshots.refresh_if_changed()
    return snap.id if snap is not None else None
