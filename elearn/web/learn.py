"""Pages of the learn area (being built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("learn", __name__, url_prefix="/learn")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = []
