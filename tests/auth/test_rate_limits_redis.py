"""With ELEARN_REDIS_URL the rate limits are counted in Redis, so every web node counts together: refused
sign-ins on one node are refused on the next. A real redis-server (Debian's, `make sysdeps`) is started here."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from elearn import create_app, policy
from elearn.config import Config
from elearn.extensions import db as _db
from tests.conftest import PASSWORD, CSRFClient


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (run `make sysdeps`)")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(workdir)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            pytest.fail("redis-server did not start")
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def app_config(redis_url):
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": redis_url}


def test_the_redis_url_is_where_limits_are_counted(monkeypatch, tmp_path, redis_url):
    monkeypatch.setenv("ELEARN_REDIS_URL", redis_url)
    assert redis_url == Config(str(tmp_path)).RATELIMIT_STORAGE_URI
    monkeypatch.delenv("ELEARN_REDIS_URL")
    assert Config(str(tmp_path)).RATELIMIT_STORAGE_URI == "memory://"


def test_two_web_nodes_count_refused_sign_ins_together(app, client, auth, make_user, redis_url, tmp_path):
    user = make_user()
    allowed = int(policy.LOGIN_LIMIT_PER_NAME.split(" per minute")[0])
    other_node = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),  # the same database as `app`
                             "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                             "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": redis_url})
    other_node.test_client_class = CSRFClient
    elsewhere = other_node.test_client()
    for i in range(allowed):
        node = client if i % 2 else elsewhere
        r = node.post("/auth/login", data={"username": user.username, "password": "wrong-guess1"})
        assert r.status_code == 401
    # Half the attempts went to each node: in memory neither would have reached the limit.
    r = elsewhere.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 429
    assert auth.login(user.username, PASSWORD).status_code == 429
    with other_node.app_context():
        _db.session.remove()
        _db.engine.dispose()  # its own pool: no connection left for the garbage collector
