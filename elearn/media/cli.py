"""Media commands of the CLI: ``elearn media encrypt`` converts the assets transcoded before segments were
encrypted, one by one, with a progress bar; they stay playable meanwhile."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from elearn.media import services as media
from media_pipeline.cli import ProgressBar
from media_pipeline.errors import MediaError

media_group = AppGroup("media", help="Media assets: encryption of old assets.")


@media_group.command("encrypt")
@click.option("--asset", "asset_ids", type=int, multiple=True, help="Only this asset (repeatable).")
def encrypt_command(asset_ids):
    """Encrypt the segments of every ready asset still in the clear (or only --asset ones)."""
    todo = [a for a in media.assets_to_encrypt() if not asset_ids or a in asset_ids]
    if not todo:
        click.echo("every ready asset is encrypted")
        return
    done = 0
    for asset_id in todo:
        bar = ProgressBar(sys.stdout, label=f"asset {asset_id}")
        try:
            converted = media.encrypt_existing_asset(asset_id, on_progress=bar)
        except (OSError, ValueError, MediaError) as exc:
            click.echo("")
            raise click.ClickException(f"asset {asset_id}: {exc}") from exc
        bar(1.0)
        if not converted:
            click.echo(f"asset {asset_id} changed meanwhile: left alone")
        done += int(converted)
    click.echo(f"encrypted {done} of {len(todo)} assets")


def register(app) -> None:
    app.cli.add_command(media_group)
