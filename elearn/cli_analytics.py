"""``elearn analytics rebuild``: recompute the analytics summaries from the study-hours ledger.

Needed only after rows reach the ledger without elearn.services.ledger (bulk imports, the benchmark) or after
the cycle dates in policy change; credits keep the summaries in step otherwise."""
from __future__ import annotations

import click
from flask.cli import AppGroup

analytics_cli = AppGroup("analytics", help="Participation analytics.")


@analytics_cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute the per-member, per-organisation-month and per-course summaries from the ledger."""
    from elearn.services import analytics

    counts = analytics.rebuild_summaries()
    for table, n in counts.items():
        click.echo(f"{table}: {n}")


def register(app) -> None:
    """Add the analytics commands to ``app.cli``."""
    app.cli.add_command(analytics_cli)
