"""``elearn issue-token USER``: an API bearer token, printed once."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from elearn.auth import tokens
from elearn.errors import ServiceError
from elearn.orgs import members as users
from elearn.orgs import services as orgs


@click.command("issue-token")
@click.argument("username")
@click.option("--name", default="cli", help="A label for the token.")
@click.option("--scope", "scopes", default="read,study", show_default=True,
              help="Comma-separated scopes: read, study, admin (admin for admins only).")
@click.option("--org", "org_id", type=int, default=None,
              help="Limit an admin token to this organisation's subtree (one the user manages).")
@with_appcontext
def issue_token_command(username, name, scopes, org_id):
    """Issue an API bearer token for USERNAME and print it (shown once, stored hashed)."""
    user = users.by_username(username)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    try:
        organisation = orgs.get(org_id) if org_id is not None else None
        click.echo(tokens.issue(user, name, scopes=scopes, organisation=organisation))
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc


def register(app: Flask) -> None:
    app.cli.add_command(issue_token_command)
