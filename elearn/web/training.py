"""Pages of the training area (being built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("training", __name__, url_prefix="/training")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = []
