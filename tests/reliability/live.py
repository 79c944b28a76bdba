"""A real instance for fault tests: SQLite file, data folder and job queue in a temp folder; gunicorn and
`elearn worker` as subprocesses; a tiny cookie-keeping HTTP client on loopback."""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINDIR = Path(sys.executable).parent
ELEARN = str(BINDIR / "elearn")
GUNICORN = str(BINDIR / "gunicorn")
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveInstance:
    """One instance folder shared by the test process (in-process app for setup and checks) and subprocesses."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.db_file = self.path / "elearn.db"
        # The fault tests send bursts of reports far faster than a player (every 0.2 s from several devices):
        # the rate limits, which would refuse them, are not what they test.
        self.env = dict(os.environ, ELEARN_INSTANCE=str(self.path), ELEARN_SECRET_KEY="reliability-tests-only",
                        ELEARN_RATE_LIMITS="0")
        for name in ("DATABASE_URL", "DATABASE_URL_TEST", "ELEARN_QUEUE_URL", "ELEARN_QUEUE_IMMEDIATE",
                     "ELEARN_DATA_DIR", "ELEARN_INDEX_DIR", "ELEARN_QUEUE_FILE"):
            self.env.pop(name, None)
        self.log = open(self.path / "processes.log", "ab")

    def init_db(self) -> None:
        """`elearn init-db`, then create_all for tables the (being regenerated) migrations do not have yet."""
        done = subprocess.run([ELEARN, "init-db"], env=self.env, capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stdout + done.stderr
        subprocess.run([sys.executable, "-c", "from elearn import create_app; from elearn.extensions import db\n"
                        "app = create_app()\nwith app.app_context(): db.create_all()"],
                       env=self.env, check=True, cwd=ROOT)

    def app(self, *, immediate: bool = False, **config):
        """An app on the same database, data folder and queue as the subprocesses (``config``: overrides)."""
        from elearn import create_app
        return create_app({"INSTANCE_PATH": str(self.path), "SECRET_KEY": self.env["ELEARN_SECRET_KEY"],
                           "SQLALCHEMY_DATABASE_URI": f"sqlite:///{self.db_file}",
                           "ELEARN_DATA_DIR": str(self.path / "data"), "ELEARN_INDEX_DIR": str(self.path / "index"),
                           "ELEARN_QUEUE_FILE": str(self.path / "jobs.db"), "ELEARN_QUEUE_IMMEDIATE": immediate,
                           **config})

    def start_worker(self) -> subprocess.Popen:
        return subprocess.Popen([ELEARN, "worker", "--workers", "1"], env=self.env, cwd=ROOT,
                                stdout=self.log, stderr=self.log, start_new_session=True)

    def start_gunicorn(self, workers: int = 2, threads: int = 4) -> tuple[subprocess.Popen, int]:
        port = free_port()
        proc = subprocess.Popen([GUNICORN, "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "-k", "gthread",
                                 "--threads", str(threads), "--graceful-timeout", "5", "elearn:create_app()"],
                                env=self.env, cwd=ROOT, stdout=self.log, stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return proc, port
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            if proc.poll() is not None or time.monotonic() > deadline:
                stop(proc)
                raise AssertionError("gunicorn did not start; see " + str(self.path / "processes.log"))
            time.sleep(0.3)

    def close(self) -> None:
        self.log.close()


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Stop a process we started (and its process group) and wait for it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command line) of every process visible in /proc."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out.append((int(entry.name), ppid, cmdline))
    return out


def children(pid: int) -> list[int]:
    return [p for p, ppid, _cmd in processes() if ppid == pid]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Browser:
    """A keep-alive HTTP client with a cookie jar, as one browser tab: log in, GET pages, POST JSON."""

    def __init__(self, port: int, timeout: float = 30):
        self.port, self.timeout = port, timeout
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self.conn

    def reset(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
                ) -> tuple[int, dict, bytes]:
        """One request; raises OSError/HTTPException on a broken connection (after dropping it)."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.reset()
            raise
        for key, value in resp.getheaders():
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if (resp.getheader("Connection") or "").lower() == "close":
            self.reset()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def get(self, path: str) -> tuple[int, dict, bytes]:
        return self.request("GET", path)

    def login(self, username: str, password: str) -> None:
        status, _h, page = self.get("/auth/login")
        assert status == 200, status
        self.csrf = _CSRF_META.search(page.decode()).group(1)
        form = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": self.csrf})
        status, headers, _b = self.request("POST", "/auth/login", form.encode(),
                                           {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302 and not headers.get("location", "").startswith("/auth/login"), (status, headers)
        status, _h, page = self.get("/")
        self.csrf = _CSRF_META.search(page.decode()).group(1)

    def post_json(self, path: str, payload: object) -> tuple[int, dict, bytes]:
        return self.request("POST", path, json.dumps(payload).encode(),
                            {"Content-Type": "application/json", "X-CSRFToken": self.csrf})


def media_urls(playlist: str, base: str) -> list[str]:
    """The URIs of a playlist (rewritten with ?ps=), resolved against the playlist's URL."""
    out = []
    for line in playlist.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(urllib.parse.urljoin(base, line))
        for uri in re.findall(r'URI="([^"]+)"', line):
            out.append(urllib.parse.urljoin(base, uri))
    return out
