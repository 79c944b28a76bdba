"""elearn: an online classroom for party-member education."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory (see :func:`elearn.app.create_app`)."""
    # Imported here: the app module imports every domain, and every domain imports modules of this package
    # (``elearn.clock``, ``elearn.policy``…); at package import time that would be a cycle.
    from elearn.app import create_app as build

    return build(test_config)
