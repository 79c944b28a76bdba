"""xAPI commands of the CLI: ``elearn xapi export --from YYYY-MM-DD --to YYYY-MM-DD [--output FILE]`` (the
statements of a period as JSON lines, from the outbox: no LRS needed), ``flush`` (send the due statements to
the LRS now), ``status`` (the outbox by state, and the latest refusals) and ``retry-failed``."""
from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from elearn.xapi import services

xapi_group = AppGroup("xapi", help="Learning records as xAPI statements (outbox, LRS).")


def _day(_ctx: click.Context, param: click.Parameter, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date of the form YYYY-MM-DD", param=param) from None


@xapi_group.command("export")
@click.option("--from", "start", required=True, callback=_day, help="First day (site time), YYYY-MM-DD.")
@click.option("--to", "end", required=True, callback=_day, help="Last day (site time, included), YYYY-MM-DD.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file (replaced whole once complete); standard output without it.")
def export_command(start: date, end: date, output: str | None) -> None:
    """Write the statements of the days START … END as JSON lines, oldest first, sent or not."""
    if end < start:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    lines = services.export_lines(start, end)
    if output is None:
        count = 0
        for line in lines:
            click.echo(line)
            count += 1
        click.echo(f"{count} statements", err=True)
        return
    target = Path(output)
    if not target.parent.is_dir():
        raise click.BadParameter(f"the folder {str(target.parent)!r} does not exist", param_hint="--output")
    # Written beside the target and renamed at the end: a failed export never leaves half a file behind.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for line in lines:
                out.write(line + "\n")
                count += 1
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    click.echo(f"{count} statements written to {target}")


@xapi_group.command("flush")
def flush_command() -> None:
    """Send the due statements to the LRS now (the worker does so every minute)."""
    if services.lrs_client() is None:
        raise click.ClickException("no LRS configured (ELEARN_LRS_URL); the statements stay in the outbox")
    result = services.flush()
    click.echo(f"sent {result.sent}, refused {result.failed}, deferred {result.deferred}")


@xapi_group.command("status")
def status_command() -> None:
    """How many statements are pending, sent and failed; the latest refusals with the LRS's answer."""
    for state, count in services.status_counts().items():
        click.echo(f"{state}: {count}")
    for row in services.failures():
        click.echo(f"failed {row.statement_id} ({row.verb}): {row.last_error}")


@xapi_group.command("retry-failed")
def retry_failed_command() -> None:
    """Send the refused statements again at the next flush (once their cause is fixed)."""
    click.echo(f"{services.retry_failed()} statements queued again")


def register(app) -> None:
    """Add the xAPI commands to ``app.cli``."""
    app.cli.add_command(xapi_group)
