"""Benchmark: time from starting gunicorn as ``elearn serve`` does to the first answered request and search.

    .venv/bin/python benchmarks/bench_startup.py [--workers 2] [--documents 200]

Builds a throwaway instance (SQLite, ``elearn init-db``-like schema, a search index of ``--documents``
readings' paragraphs from the plan), then starts gunicorn with exactly the command of ``elearn serve``
(``elearn.site.cli.gunicorn_command``: the app preloaded and warmed up in the master) and polls
the sign-in page and the search API: it prints the seconds until the port accepts connections, until the first page
answers, and until the first search answers (the request that used to load jieba and the index); then the same
with preloading switched off (``--no-preload``: each worker loads the app and its first search loads the rest).
"""
from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINDIR = str(Path(sys.executable).parent)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_instance(instance: Path, documents: int) -> str:
    """The schema, a member and an index of ``documents`` paragraphs; returns the member's API token."""
    os.environ["ELEARN_INSTANCE"] = str(instance)
    sys.path.insert(0, str(ROOT))
    import content
    from elearn import create_app
    from elearn.auth import tokens
    from elearn.extensions import db
    from elearn.orgs import members as users
    from elearn.orgs import services as orgs
    from elearn.search import services as search
    plan = ROOT / "samples" / "readings" / "national-member-education-plan-2024-2028.txt"
    text = plan.read_text(encoding="utf-8") if plan.exists() else "党员教育培训工作规划。" * 200
    paragraphs = [p for p in text.split("\n") if p.strip()] or [text]
    app = create_app()
    with app.app_context():
        db.create_all()
        org = orgs.create(None, name="基准党委", kind="committee", sector="rural")
        member = users.create(None, username="startup_member", name="党员", password="Xq7-passw0rd-Lm",
                              organisation=org)
        if not search.uses_database():
            search.get_index().update_documents(
                content.IndexDoc(doc_id=f"bench-{i}", kind="reading", title=f"第{i}篇",
                                 body=paragraphs[i % len(paragraphs)]) for i in range(documents))
        return tokens.issue(member, "bench")


def get(port: int, path: str, headers: dict | None = None, timeout: float = 120.0) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def measure(cmd: list[str], port: int, env: dict, cwd: Path, token: str) -> dict[str, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=str(cwd), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out: dict[str, float] = {}
    try:
        deadline = started + 180
        while time.perf_counter() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.05)
        out["port open"] = time.perf_counter() - started
        t = time.perf_counter()
        status = get(port, "/auth/login")
        out["first page"] = time.perf_counter() - started
        out["first page alone"] = time.perf_counter() - t
        out["first page status"] = status
        t = time.perf_counter()
        status = get(port, "/api/v1/search?q=" + "%E5%85%9A%E5%91%98%E6%95%99%E8%82%B2",  # 党员教育
                     {"Authorization": f"Bearer {token}"})
        out["first search alone"] = time.perf_counter() - t
        out["first search status"] = status
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--documents", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp_name:
        tmp = Path(tmp_name)
        token = build_instance(tmp / "instance", args.documents)
        env = {**os.environ, "ELEARN_INSTANCE": str(tmp / "instance"), "PYTHONPATH": str(ROOT)}
        from elearn.site.cli import gunicorn_command
        print(f"gunicorn, {args.workers} workers × 4 threads, as `elearn serve` starts it; "
              f"load average {os.getloadavg()[0]:.2f} before")
        for label, preload in (("preloaded (elearn serve)", True), ("not preloaded", False)):
            port = free_port()
            cmd = gunicorn_command(BINDIR, "127.0.0.1", port, args.workers)
            if not preload:
                cmd = [c for c in cmd if c not in ("-c", "python:elearn.site.gunicorn_conf")]
            r = measure(cmd, port, env, tmp, token)
            print(f"{label:<26} port open {r['port open']:6.2f} s   first page {r['first page']:6.2f} s after start "
                  f"({r['first page alone']:.2f} s for the request, HTTP {r['first page status']:.0f})   "
                  f"first search {r['first search alone']:.2f} s (HTTP {r['first search status']:.0f})")
        print(f"load average {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
