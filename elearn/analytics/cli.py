"""``elearn analytics rebuild``: recompute the analytics summaries from the study-hours ledger.
``elearn analytics snapshot``: compute the dashboard snapshot of the whole tree now (the worker does it every
few minutes when the data changed; this is for a cron job or right after a bulk import).

Rebuilding is needed only after rows reach the ledger without elearn.ledger.services (bulk imports, the
benchmark) or after the cycle dates in policy change; credits keep the summaries in step otherwise."""
from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from elearn.analytics import sources as snapshots
from elearn.ledger import summaries

analytics_cli = AppGroup("analytics", help="Participation analytics.")


@analytics_cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute the per-member, per-organisation-month and per-course summaries from the ledger."""
    counts = summaries.rebuild_summaries()
    for table, n in counts.items():
        click.echo(f"{table}: {n}")


@analytics_cli.command("snapshot")
@click.option("--full", is_flag=True, help="Recompute every organisation, copying nothing from the last snapshot.")
def snapshot_command(full: bool) -> None:
    """Compute the dashboard figures of every organisation and store them as the current snapshot (only the
    organisations credited since the last one, unless --full)."""
    t0 = time.perf_counter()
    snap = snapshots.take_snapshot(full=full)
    if snap is None:  # claimed by another process, or pruned as abandoned, before it could be computed
        raise click.ClickException("the new snapshot was claimed or removed by another process; run it again")
    how = f"incremental from {snap.base_id}" if snap.mode == "incremental" else "full"
    click.echo(f"snapshot {snap.id}: {snap.members} members, as of {snap.as_of.isoformat()}, {how}, "
               f"{snap.recomputed_orgs} organisations computed, {time.perf_counter() - t0:.1f} s")


def register(app) -> None:
    """Add the analytics commands to ``app.cli``."""
    app.cli.add_command(analytics_cli)
