"""API endpoints: progress (being built). Routes attach to the shared /api/v1 blueprint."""
from __future__ import annotations

from elearn.api import bp  # noqa: F401
