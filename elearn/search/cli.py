"""Search commands of the CLI: ``elearn reindex`` and ``elearn search QUERY``."""
from __future__ import annotations

import html
import time

import click
from flask.cli import with_appcontext

from elearn.access import Role
from elearn.orgs import members as users
from elearn.orgs.models import User
from elearn.search import services as search


@click.command("reindex")
@with_appcontext
def reindex_command():
    """Rebuild the search index from the database (a new index is built, then swapped in)."""
    started = time.monotonic()
    count = search.rebuild()
    click.echo(f"search index rebuilt: {count} documents in {time.monotonic() - started:.1f} s")


@click.command("search")
@click.argument("query")
@click.option("--user", "username", default=None, help="Search as this user (only what they may see).")
@click.option("--kind", default=None, help="reading, course, lesson or subtitle.")
@click.option("--page", default=1, show_default=True, type=int)
@with_appcontext
def search_command(query, username, kind, page):
    """Search the index and print the results (as a site admin unless --user is given)."""
    if username:
        user = users.by_username(username)
        if user is None:
            raise click.ClickException(f"no user {username!r}")
    else:
        user = User(id=0, role=Role.SITE_ADMIN, active=True)
    try:
        results = search.search(user, query, kind=kind, page=page)
    except search.SearchQueryError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"{results.total} results (page {results.page}/{results.pagecount})")
    for hit in results.hits:
        snippet = html.unescape(hit.snippet_html.replace("<mark>", "[").replace("</mark>", "]"))
        click.echo(f"[{hit.kind}] {hit.title}  {hit.url}\n    {snippet}")


def register(app) -> None:
    """Add the search commands to ``app.cli``."""
    app.cli.add_command(reindex_command)
    app.cli.add_command(search_command)
