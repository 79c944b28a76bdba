"""Pages of the quiz area (being built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("quiz", __name__, url_prefix="/quiz")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = []
