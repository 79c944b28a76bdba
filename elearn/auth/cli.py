"""``elearn issue-token USER``: an API bearer token, printed once."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from elearn.auth import tokens
from elearn.errors import ServiceError
from elearn.orgs import members as users


@click.command("issue-token")
@click.argument("username")
@click.option("--name", default="cli", help="A label for the token.")
@with_appcontext
def issue_token_command(username, name):
    """Issue an API bearer token for USERNAME and print it (shown once, stored hashed)."""
    user = users.by_username(username)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    try:
        click.echo(tokens.issue(user, name))
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc


def register(app: Flask) -> None:
    app.cli.add_command(issue_token_command)
