"""Servers for the stack tests: one Redis for the module (``ELEARN_TEST_REDIS_URL`` hands in one that `.ci/run`
started; otherwise a redis-server of our own), PostgreSQL when ``DATABASE_URL_TEST`` names one."""
from __future__ import annotations

import os

import pytest
import redis

from tests.stack.stack import RedisServer, Stack


@pytest.fixture(scope="module")
def redis_server_url(tmp_path_factory):
    given = os.environ.get("ELEARN_TEST_REDIS_URL")
    if given:
        yield given.rstrip("/")
        return
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield f"redis://127.0.0.1:{server.port}"
    server.stop()


@pytest.fixture(scope="module")
def redis_urls(redis_server_url):
    """(queue, rate limits): two empty databases of the module's Redis."""
    urls = (f"{redis_server_url}/2", f"{redis_server_url}/3")
    for url in urls:
        client = redis.Redis.from_url(url)
        client.flushdb()
        client.close()
    return urls


@pytest.fixture(scope="module")
def postgres_url():
    url = os.environ.get("DATABASE_URL_TEST", "")
    return url if url.startswith("postgresql") else None


@pytest.fixture(scope="module")
def make_stack(tmp_path_factory):
    """``make_stack(**settings)``: a :class:`Stack` (one per test module: starting it is the slow part),
    stopped afterwards. The test process shares its personal-data keys (its app reads the same rows)."""
    made = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        def make(**kwargs):
            stack = Stack(tmp_path_factory.mktemp("site"), **kwargs)
            monkeypatch.setenv("ELEARN_PII_KEYS", stack.env["ELEARN_PII_KEYS"])
            made.append(stack)
            return stack
        yield make
        for stack in made:
            stack.close()
