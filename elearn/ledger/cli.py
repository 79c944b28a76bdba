"""Ledger commands of the CLI: ``elearn ledger verify`` (walk the hash chain and its signed checkpoints, exit 1
with the first broken entry), ``checkpoint`` (sign the head now) and ``seal`` (append entries written before
the chain existed)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from elearn.ledger import chain, integrity

ledger_group = AppGroup("ledger", help="The study-hours ledger: tamper evidence.")


@ledger_group.command("verify")
def verify_command():
    """Recompute every entry's hash and link and check the signed checkpoints; exit 1 on the first problem."""
    total = integrity.entry_count()
    with click.progressbar(length=max(total, 1), label="verifying the ledger", show_pos=True) as bar:
        seen = [0]

        def progress(done: int) -> None:
            bar.update(done - seen[0])
            seen[0] = done

        result = integrity.verify_and_record(progress=progress)
    if result.ok:
        click.echo(f"ledger intact: {result.entries} entries, {result.checkpoints} signed checkpoints")
        return
    click.echo(f"LEDGER BROKEN ({result.problem}): {result.message}", err=True)
    if result.entry_id is not None:
        click.echo(f"first broken entry: id {result.entry_id}, position {result.seq}", err=True)
    raise SystemExit(1)


@ledger_group.command("checkpoint")
def checkpoint_command():
    """Sign the chain's head now (the job does so every hour)."""
    row = chain.checkpoint()
    click.echo(f"checkpoint of entry {row.seq} signed" if row else "nothing new to sign")


@ledger_group.command("seal")
def seal_command():
    """Append the entries outside the chain (written before it existed) to it, in id order; audited."""
    count = integrity.seal_unchained()
    click.echo(f"{count} entries appended to the chain")


def register(app) -> None:
    """Add the ledger commands to ``app.cli``."""
    app.cli.add_command(ledger_group)
