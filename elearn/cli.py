"""The ``elearn`` command line (also ``flask --app elearn``): each domain registers its own commands."""
from __future__ import annotations

from flask import Flask
from flask.cli import FlaskGroup

from elearn import create_app
from elearn.analytics import cli as analytics_cli
from elearn.auth import cli as auth_cli
from elearn.ledger import cli as ledger_cli
from elearn.media import cli as media_cli
from elearn.orgs import cli as orgs_cli
from elearn.search import cli as search_cli
from elearn.security import cli as security_cli
from elearn.site import cli as site_cli
from elearn.xapi import cli as xapi_cli


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``elearn`` console script."""
    group = FlaskGroup(create_app=lambda: create_app(), add_default_commands=True,
                       help="elearn: online classroom for party-member education.")
    group.main(args=argv, prog_name="elearn")


def init_app(app: Flask) -> None:
    for domain in (site_cli, orgs_cli, auth_cli, search_cli, analytics_cli, media_cli, ledger_cli,
                   security_cli, xapi_cli):
        domain.register(app)
