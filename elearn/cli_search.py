"""Search commands of the CLI (being built)."""
from __future__ import annotations


def register(app) -> None:
    """Add the search commands to ``app.cli``."""
