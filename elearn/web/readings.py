"""Pages of the readings area (being built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("readings", __name__, url_prefix="/readings")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = []
