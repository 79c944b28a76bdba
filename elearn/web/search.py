"""Pages of the search area (being built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("search", __name__, url_prefix="/search")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = []
