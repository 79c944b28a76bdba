"""``elearn create-user``: an account in an organisation, from the command line."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from elearn.access import Role
from elearn.errors import ServiceError
from elearn.orgs import members as users
from elearn.orgs import services as orgs
from elearn.policy import MEMBER_CATEGORIES


@click.command("create-user")
@click.argument("username")
@click.option("--name", required=True)
@click.option("--org", "org_id", type=int, required=True, help="Organisation id.")
@click.option("--role", default="member", type=click.Choice([r.value for r in Role]))
@click.option("--category", default="member", type=click.Choice(list(MEMBER_CATEGORIES)))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_user_command(username, name, org_id, role, category, password):
    """Create a user in an organisation."""
    try:
        org = orgs.get(org_id)
        user = users.create(None, username=username, name=name, password=password, organisation=org,
                            role=role, category=category)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"created user {user.username} (id {user.id})")


def register(app: Flask) -> None:
    app.cli.add_command(create_user_command)
