"""Pages of the roster area (being built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("roster", __name__, url_prefix="/roster")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = []
