"""Pages of the credits area (being built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("credits", __name__, url_prefix="/me")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = []
