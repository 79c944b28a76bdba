"""Pages of the orgtools area (being built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("orgtools", __name__, url_prefix="/org")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = []
