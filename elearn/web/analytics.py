"""Pages of the analytics area (being built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("analytics", __name__, url_prefix="/analytics")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = []
