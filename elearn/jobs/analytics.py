"""Jobs of the analytics dashboard: snapshots of the whole tree, and XLSX exports."""
from __future__ import annotations

from elearn.policy import ANALYTICS
from elearn.queue import job, periodic
from elearn.services import analytics, report_exports


@job("analytics_snapshot")
def analytics_snapshot(snapshot_id: int) -> int | None:
    """Compute and store the grouped dashboard rows of every organisation."""
    snap = analytics.take_snapshot(snapshot_id)
    return snap.id if snap is not None else None


@job("export_analytics")
def export_analytics(export_id: int) -> None:
    """Write the dashboard workbook an admin asked for."""
    report_exports.run_analytics_export(export_id)


@periodic("analytics_refresh_periodic", minute=f"*/{ANALYTICS.snapshot_every_minutes}")
@job("analytics_refresh")
def analytics_refresh() -> int | None:
    """Queue a snapshot when the data changed (only where some subtree is too large to compute live), and
    remove expired exports."""
    report_exports.expire_exports()
    snap = analytics.refresh_if_changed()
    return snap.id if snap is not None else None
