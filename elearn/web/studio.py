"""Pages of the studio area (being built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("studio", __name__, url_prefix="/studio")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = []
