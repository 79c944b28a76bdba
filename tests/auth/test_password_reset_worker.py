"""The reset e-mail through the real queue: the request only enqueues, a separate `elearn worker` process
(Huey on SQLite, as `make run` starts it) looks the account up and hands the message to the SMTP server."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from elearn.extensions import db
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
NEW_PASSWORD = "Worker-Sent-2026"


@pytest.fixture
def app_config(smtp_server, tmp_path):
    return {"ELEARN_SMTP_URL": smtp_server.url, "ELEARN_BASE_URL": "http://elearn.test",
            "ELEARN_QUEUE_IMMEDIATE": False, "ELEARN_QUEUE_FILE": str(tmp_path / "jobs.db")}


@pytest.fixture
def worker(app, tmp_path):
    """`elearn worker` on the test's database, queue file and instance (its personal-data keys and secret)."""
    env = dict(os.environ, ELEARN_INSTANCE=app.instance_path, ELEARN_SECRET_KEY=app.config["SECRET_KEY"],
               DATABASE_URL=str(db.engine.url.render_as_string(hide_password=False)),
               ELEARN_QUEUE_FILE=app.config["ELEARN_QUEUE_FILE"], ELEARN_SMTP_URL=app.config["ELEARN_SMTP_URL"],
               ELEARN_QUEUE_IMMEDIATE="0")
    log = open(tmp_path / "worker.log", "w")
    process = subprocess.Popen([str(Path(sys.executable).parent / "elearn"), "worker", "--workers", "1"], env=env,
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def test_the_worker_sends_the_link_and_it_works(client, auth, make_user, smtp_server, worker, tmp_path):
    user = make_user(username="bob")
    user.email = "bob@example.org"
    db.session.commit()
    assert client.post("/auth/reset", data={"email": "bob@example.org"}).status_code == 302
    deadline = time.monotonic() + 60
    while not smtp_server.messages:
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(0.2)
    link = re.search(r"http://elearn\.test(/auth/reset/\S+)", smtp_server.messages[0].get_content()).group(1)
    assert client.post(link, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert auth.login("bob", PASSWORD).status_code == 401
    assert auth.login("bob", NEW_PASSWORD).status_code == 302
