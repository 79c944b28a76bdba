"""Fault tests run real processes on a real instance folder; they are slow (marked ``slow``)."""
from __future__ import annotations

import pytest

from tests.reliability.live import LiveInstance


@pytest.fixture
def live(tmp_path):
    instance = LiveInstance(tmp_path / "live")
    instance.init_db()
    yield instance
    instance.close()
