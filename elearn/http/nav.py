"""The top navigation: each view module declares ``NAV`` entries (endpoint, label, roles or None for
everyone signed in, and optionally a badge: a function of the user giving a count shown beside the label, such
as the unread notifications); the app lists them in the order its blueprints are registered."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import Flask, url_for
from flask_login import current_user

# roles: a list of roles, None for everyone signed in, or a predicate of the user (a branch secretary's tools).
Roles = Sequence[str] | Callable[[Any], bool] | None
NavEntry = tuple[str, Any, Roles] | tuple[str, Any, Roles, Callable[[Any], int]]


def register_navigation(app: Flask, entries: Iterable[NavEntry]) -> None:
    """Offer ``nav_items`` (the entries the current user's role may open) to every template."""
    items = list(entries)

    @app.context_processor
    def navigation() -> dict[str, Any]:
        shown = []
        if current_user.is_authenticated:
            for endpoint, label, roles, *badge in items:
                if roles is None or (roles(current_user) if callable(roles) else current_user.role in roles):
                    shown.append({"url": url_for(endpoint), "label": label, "endpoint": endpoint,
                                  "badge": badge[0](current_user) if badge else 0})
        return {"nav_items": shown}
