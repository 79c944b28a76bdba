import random
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


def _mutations(data: bytes, seed: int, count: int):
    """``count`` damaged copies of ``data``: bytes overwritten, cut out and inserted at random places."""
    rng = random.Random(seed)
    for _ in range(count):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 12)):
            at, roll = rng.randrange(len(damaged)), rng.random()
            if roll < 0.5:
                damaged[at] = rng.randrange(256)
            elif roll < 0.75:
                del damaged[at:at + rng.randint(1, 40)]
            else:
                damaged[at:at] = rng.randbytes(rng.randint(1, 16))
        yield bytes(damaged)


@pytest.fixture
def damaged_copies():
    """The fuzzing of the ingest tests: ``damaged_copies(data, seed, count)`` yields damaged copies."""
    return _mutations
