"""The scale-out stack of ``deploy/`` started for real on loopback: Redis, PostgreSQL (or a SQLite file),
gunicorn web nodes and `elearn worker` started with the systemd units' command lines and the environment file's
settings, and nginx with the site file rendered from its template."""
from __future__ import annotations

import base64
import contextlib
import http.client
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.reliability.live import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BINDIR = Path(sys.executable).parent
WEB_UNIT = DEPLOY / "systemd" / "elearn-web@.service"
WORKER_UNIT = DEPLOY / "systemd" / "elearn-worker.service"
ENV_EXAMPLE = DEPLOY / "elearn.env.example"
SITE_TEMPLATE = DEPLOY / "nginx" / "elearn.conf"
_PLACEHOLDER = re.compile(r"\$\{(ELEARN_[A-Z0-9_]+)\}")
_SETTING = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")


# ---------------------------------------------------------------- the deploy files


def render_site(template: str, values: dict[str, str]) -> str:
    """The nginx site with its ``${ELEARN_...}`` placeholders filled (as ``envsubst`` with that list would);
    nginx's own ``$variables`` stay. A placeholder without a value is an error, never left empty."""
    missing = sorted(set(_PLACEHOLDER.findall(template)) - values.keys())
    if missing:
        raise KeyError(f"no value for {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def env_file(path: Path = ENV_EXAMPLE, *, commented: bool = False) -> dict[str, str]:
    """The settings of a systemd EnvironmentFile (``NAME=value`` lines); ``commented`` also takes the
    ``# NAME=value`` lines (documented, left at their default)."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not commented and line.lstrip().startswith("#"):
            continue
        match = _SETTING.match(line.strip())
        if match:
            out.setdefault(match.group(1), match.group(2))
    return out


def unit_command(unit: Path, env: dict[str, str], instance: str = "") -> list[str]:
    """The ExecStart of a systemd unit as systemd runs it: ``%i`` is the instance, ``${NAME}`` comes from the
    environment, and the programs are this virtualenv's instead of /srv/elearn/venv's."""
    lines = [line for line in unit.read_text(encoding="utf-8").splitlines() if line.startswith("ExecStart=")]
    assert len(lines) == 1, f"{unit.name}: expected one ExecStart"
    argv = shlex.split(lines[0].removeprefix("ExecStart="))
    argv = [re.sub(r"\$\{([A-Z0-9_]+)\}", lambda m: env.get(m.group(1), ""), arg)
            .replace("%i", instance).replace("%%", "%") for arg in argv]
    assert argv[0].startswith("/srv/elearn/venv/bin/"), argv[0]
    argv[0] = str(BINDIR / Path(argv[0]).name)
    return argv


def pii_keys() -> str:
    """An ``ELEARN_PII_KEYS`` value: one fresh AES key, as every node of a site must share."""
    return "k1:aes-gcm:" + base64.b64encode(os.urandom(32)).decode()


# ---------------------------------------------------------------- servers


def _spawn(argv: list[str], log: Path, **kwargs) -> subprocess.Popen:
    """``argv`` in a session of its own, its output appended to ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs)


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what} did not start (exit {proc.poll()})")
        time.sleep(0.05)


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


class RedisServer:
    """Debian's redis-server on a free loopback port; ``persistent``: AOF fsynced at every write, so that
    even a SIGKILLed server comes back with every queued job."""

    def __init__(self, workdir: Path, *, persistent: bool = False):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise AssertionError("redis-server is not installed (run `make sysdeps`)")
        self.workdir, self.persistent, self.port = Path(workdir), persistent, free_port()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        durability = (["--appendonly", "yes", "--appendfsync", "always", "--save", "1 1"] if self.persistent
                      else ["--appendonly", "no", "--save", ""])
        self.proc = _spawn([self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                            "--dir", str(self.workdir), *durability], self.workdir / "redis.log")
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop(signal.SIGKILL)
                raise AssertionError("redis-server did not start; see " + str(self.workdir / "redis.log"))
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None:
            stop(self.proc, sig, timeout=10)
            self.proc = None


class Nginx:
    """nginx from Debian as the current user: a main file of our own (pid, logs and temp folders under
    ``workdir``) that includes the site rendered from deploy/nginx/elearn.conf, run with ``daemon off``."""

    def __init__(self, workdir: Path, site: str, port: int):
        self.binary = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
        if self.binary is None:
            raise AssertionError("nginx is not installed (run `make sysdeps`)")
        self.workdir, self.port = Path(workdir), port
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "elearn.conf").write_text(site, encoding="utf-8")
        temp = "\n".join(f"    {name}_temp_path {self.workdir / name};"
                         for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # As root nginx would hand its workers to "nobody", who cannot read the test's folders.
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
        (self.workdir / "nginx.conf").write_text(f"""{user}
worker_processes 1;
pid {self.workdir / 'nginx.pid'};
error_log {self.workdir / 'error.log'} warn;
events {{ worker_connections 512; }}
http {{
    default_type application/octet-stream;
    access_log {self.workdir / 'access.log'};
{temp}
    include {self.workdir / 'elearn.conf'};
}}
""", encoding="utf-8")
        self.proc: subprocess.Popen | None = None

    def _argv(self, *extra: str) -> list[str]:
        return [self.binary, "-p", str(self.workdir), "-c", str(self.workdir / "nginx.conf"),
                "-e", str(self.workdir / "error.log"), *extra]

    def start(self) -> Nginx:
        check = subprocess.run(self._argv("-t"), capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.proc = _spawn(self._argv("-g", "daemon off;"), self.workdir / "stderr.log")
        _wait_port(self.port, self.proc, "nginx")
        return self

    def access_log(self) -> str:
        return (self.workdir / "access.log").read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, signal.SIGQUIT, timeout=10)
            self.proc = None


class WebNode:
    """One gunicorn started with the web unit's ExecStart (instance = its port)."""

    def __init__(self, name: str, port: int, proc: subprocess.Popen, log: Path):
        self.name, self.port, self.proc, self.log = name, port, proc, log

    def access_lines(self, needle: str, at_least: int = 0, timeout: float = 5) -> list[str]:
        """The lines of its log with ``needle``; waits a little for ``at_least`` of them (gunicorn writes
        the line once the response is sent, a moment after the client has it)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines()
                     if needle in line]
            if len(lines) >= at_least or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)


class Stack:
    """A site of several processes on one machine, as on several: each process has its own instance folder
    (``ELEARN_INSTANCE``); they share the database, Redis, the data folder and the keys of the environment
    file, as deploy/elearn.env.example says they must."""

    def __init__(self, root: Path, *, database_url: str | None, queue_url: str, redis_url: str,
                 **settings: str):
        self.root = Path(root)
        self.data = self.root / "data"
        shared = self.root / "shared"
        for folder in (self.data, shared):
            folder.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url or f"sqlite:///{self.root / 'elearn.db'}"
        documented = env_file(commented=True)
        overrides = {
            "DATABASE_URL": self.database_url, "ELEARN_DATA_DIR": str(self.data),
            "ELEARN_QUEUE_URL": queue_url, "ELEARN_REDIS_URL": redis_url,
            "ELEARN_SECRET_KEY": "stack-tests-" + base64.b16encode(os.urandom(8)).decode(),
            "ELEARN_PII_KEYS": pii_keys(), "ELEARN_HTTPS": "0",  # plain HTTP on loopback
            "ELEARN_BACKUP_DIR": str(self.root / "backups"),
            "ELEARN_LEDGER_SIGNING_KEY_FILE": str(shared / "ledger_signing_key.pem"),
            "ELEARN_LEDGER_ANCHOR_FILE": str(shared / "ledger_checkpoints.jsonl"),
            "ELEARN_CERTIFICATE_SIGNING_KEY_FILE": str(shared / "certificate_signing_key.pem"),
            "ELEARN_BASE_URL": "", "ELEARN_PUBLIC_URL": "", "WEB_CONCURRENCY": "2",
            **settings,
        }
        undocumented = sorted(set(overrides) - set(documented))
        assert not undocumented, f"not in deploy/elearn.env.example: {undocumented}"
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("ELEARN_", "DATABASE_URL", "GUNICORN", "WEB_CONCURRENCY"))}
        self.env = {**base, **env_file(), **overrides}
        self.env.pop("ELEARN_INSTANCE", None)  # each process gets its own
        self.procs: list[subprocess.Popen] = []
        self.nginx: Nginx | None = None

    # -- the test process's view of the site

    def process_env(self, name: str) -> dict[str, str]:
        instance = self.root / name
        return {**self.env, "ELEARN_INSTANCE": str(instance), "ELEARN_INDEX_DIR": str(instance / "index"),
                "ELEARN_QUEUE_FILE": str(instance / "jobs.db")}

    def app(self, *, immediate: bool = False, **config):
        """The app in this process on the site's database, data folder and queue (for setup and checks);
        the keys come from the environment (``monkeypatch.setenv`` of :attr:`env`'s ELEARN_PII_KEYS)."""
        from elearn import create_app
        url = self.database_url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return create_app({"INSTANCE_PATH": str(self.root / "setup"), "SECRET_KEY": self.env["ELEARN_SECRET_KEY"],
                           "SQLALCHEMY_DATABASE_URI": url, "ELEARN_DATA_DIR": str(self.data),
                           "ELEARN_QUEUE_URL": "" if immediate else self.env["ELEARN_QUEUE_URL"],
                           "ELEARN_QUEUE_IMMEDIATE": immediate, "ELEARN_X_ACCEL": True, **config})

    def init_db(self) -> None:
        """An empty database brought to the latest schema by the migrations (what `elearn init-db` runs; here
        in this process, which has imported the app already: under load each start of it takes seconds)."""
        from flask_migrate import upgrade

        from elearn.extensions import db
        if self.database_url.startswith("postgresql"):
            import psycopg
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public")
        app = self.app()
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            # Tables of work in progress whose migration is still an empty placeholder (as tests/reliability does).
            db.create_all()
            db.session.remove()
            db.engine.dispose()

    # -- processes

    def _log(self, name: str) -> Path:
        return self.root / f"{name}.log"

    def start_web(self, *names: str) -> list[WebNode]:
        """gunicorn nodes named ``names`` (each with its own instance folder and port), started together."""
        started = []
        for name in names:
            port, env, log = free_port(), self.process_env(name), self._log(name)
            proc = _spawn(unit_command(WEB_UNIT, env, str(port)), log, env=env, cwd=ROOT)
            self.procs.append(proc)
            started.append(WebNode(name, port, proc, log))
        deadline = time.monotonic() + 120
        for node in started:
            while not _healthy(node.port):
                if node.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"gunicorn {node.name} did not start; see {node.log}")
                time.sleep(0.2)
        return started

    def start_worker(self, name: str = "worker") -> subprocess.Popen:
        env = self.process_env(name)
        proc = _spawn(unit_command(WORKER_UNIT, env), self._log(name), env=env, cwd=ROOT)
        self.procs.append(proc)
        return proc

    def worker_log(self, name: str = "worker") -> str:
        path = self._log(name)
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def start_nginx(self, nodes: list[WebNode], **values: str) -> Nginx:
        port = free_port()
        site = render_site(SITE_TEMPLATE.read_text(encoding="utf-8"), {
            "ELEARN_UPSTREAM_SERVERS": " ".join(f"server 127.0.0.1:{n.port};" for n in nodes),
            "ELEARN_LISTEN": f"127.0.0.1:{port}", "ELEARN_SERVER_NAME": "localhost",
            "ELEARN_DATA_DIR": str(self.data), "ELEARN_STATIC_DIR": str(ROOT / "static"),
            "ELEARN_MAX_REQUEST_MB": self.env["ELEARN_MAX_REQUEST_MB"], **values})
        self.nginx = Nginx(self.root / "nginx", site, port).start()
        return self.nginx

    def close(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for proc in reversed(self.procs):
            stop(proc, signal.SIGTERM, timeout=20)
