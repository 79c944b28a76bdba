"""The top navigation: each view module declares ``NAV`` entries (endpoint, label, roles or None for
everyone signed in); the app lists them in the order its blueprints are registered."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask import Flask, url_for
from flask_login import current_user

NavEntry = tuple[str, Any, Sequence[str] | None]


def register_navigation(app: Flask, entries: Iterable[NavEntry]) -> None:
    """Offer ``nav_items`` (the entries the current user's role may open) to every template."""
    items = list(entries)

    @app.context_processor
    def navigation() -> dict[str, Any]:
        shown = []
        if current_user.is_authenticated:
            for endpoint, label, roles in items:
                if roles is None or current_user.role in roles:
                    shown.append({"url": url_for(endpoint), "label": label, "endpoint": endpoint})
        return {"nav_items": shown}
