from pathlib import Path

import pytest

from content import parse_reading

SAMPLE = Path("/work/shared/samples/readings/national-member-education-plan-2024-2028.txt")


@pytest.fixture(scope="session")
def sample_bytes() -> bytes:
    return SAMPLE.read_bytes()


@pytest.fixture(scope="session")
def sample_reading(sample_bytes):
    return parse_reading(sample_bytes, SAMPLE.name)
