"""A real LRS for the xAPI tests: Ralph (``ralph-malph``) with its file-system backend and a basic-auth
credentials file written by ``ralph auth``, from its own venv (``make services`` builds .venv-services/lrs),
started as a process on a free loopback port.

Ralph's ``runserver`` command runs uvicorn with ``reload=True`` (a file watcher and a child process); the tests
start the same application (``ralph.api:app``, configured by the same environment variables) under uvicorn
without the watcher, so that stopping the process really stops the LRS, through ``lrs/ralph_lrs.py``, which
makes the file-system backend append (as shipped, it can store only one batch per file).
"""
from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LRS_BIN = ROOT / ".venv-services" / "lrs" / "bin"
USER, PASSWORD = "elearn", "lrs-Passw0rd"
HOME = "http://elearn.test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ralph:
    """One Ralph LRS process; ``stop``/``start`` keep its port and its statements (files in ``data``)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.data = folder / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("RALPH_")},
            "RALPH_APP_DIR": str(folder / "app"),
            "RALPH_AUTH_FILE": str(folder / "app" / "auth.json"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.data),
        }
        (folder / "app").mkdir(exist_ok=True)
        subprocess.run([str(LRS_BIN / "ralph"), "auth", "--username", USER, "--password", PASSWORD,
                        "--scope", "all", "--agent-ifi-account", "elearn", HOME, "--write-to-disk"],
                       env=self.env, check=True, capture_output=True, timeout=120)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI"

    @property
    def auth(self) -> str:
        return f"{USER}:{PASSWORD}"

    def start(self) -> None:
        if self.running:
            return
        log = open(self.folder / "ralph.log", "ab")  # handed to the process, closed here once it has it
        self.process = subprocess.Popen(
            [str(LRS_BIN / "python"), "-m", "uvicorn", "--app-dir", str(HERE / "lrs"), "ralph_lrs:app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=self.data, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Ralph exited: {(self.folder / 'ralph.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/__heartbeat__", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("Ralph did not answer within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def clear(self) -> None:
        """Forget every statement (the file-system backend reads its files at each request)."""
        for path in self.data.iterdir():
            path.unlink()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(self.auth.encode()).decode(),
                "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}

    def post(self, statements: list[dict]) -> int:
        """Store ``statements`` as another platform would; the HTTP status."""
        request = urllib.request.Request(f"{self.endpoint}/statements", data=json.dumps(statements).encode(),
                                         headers=self._headers(), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def statements(self, **params: str) -> list[dict]:
        """Every statement the LRS holds (``GET /xAPI/statements``, following ``more``), oldest first."""
        headers = self._headers()
        url = f"{self.endpoint}/statements?" + urllib.parse.urlencode({"limit": "100", **params})
        found: list[dict] = []
        while url:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
                page = json.loads(response.read())
            found.extend(page["statements"])
            more = page.get("more")
            url = urllib.parse.urljoin(f"http://127.0.0.1:{self.port}", more) if more else ""
        return sorted(found, key=lambda s: (s["timestamp"], s["id"]))


@pytest.fixture(scope="session")
def ralph(tmp_path_factory):
    if not (LRS_BIN / "python").exists() or not (LRS_BIN / "ralph").exists():
        pytest.fail(f"{LRS_BIN} missing: `make services` builds the LRS's venv")
    server = Ralph(tmp_path_factory.mktemp("ralph"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def lrs(ralph):
    """The running LRS, holding no statement."""
    ralph.start()
    ralph.clear()
    yield ralph
    ralph.start()  # a test that stopped it leaves it running for the next


@pytest.fixture
def app_config(lrs):
    return {"ELEARN_LRS_URL": lrs.endpoint, "ELEARN_LRS_AUTH": lrs.auth, "ELEARN_XAPI_HOMEPAGE": HOME}
