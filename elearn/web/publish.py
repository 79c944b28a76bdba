"""Pages of the publish area (being built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("publish", __name__, url_prefix="/publish")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = []
