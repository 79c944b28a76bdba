"""Benchmark: progress heartbeats per second under gunicorn, against a bare endpoint, in the same run.

    .venv/bin/python benchmarks/bench_progress.py [--seconds 8] [--clients 8] [--workers 2] [--threads 4]

Builds a throwaway instance (SQLite) with demo-like data — members, an approved course published to their
sector, a lesson with a ready asset, and every segment already delivered to each member's playback session —
then starts gunicorn on loopback twice with the same settings: once with the app, once with a tiny WSGI app
that answers every request with a constant and does no work. A thread pool of keep-alive HTTP clients posts
valid progress reports (each advancing the member's watched media by a little, so every report is credited
and written) and prints req/s, p50/p99 latency and the ratio app/bare.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_instance(instance: Path, clients: int) -> dict:
    """Create the database and data; return the lesson id and one (token, session id) per client."""
    os.environ["ELEARN_INSTANCE"] = str(instance)
    # The clients report as fast as the server answers: the per-user limit would refuse them (its job); this
    # measures the work of a report.
    os.environ["ELEARN_RATE_LIMITS"] = "0"
    sys.path.insert(0, str(ROOT))
    from elearn import create_app
    from elearn.auth import tokens
    from elearn.courses.models import Course, Lesson, Series, SeriesCourse, SeriesTarget
    from elearn.extensions import db
    from elearn.media.models import MediaAsset
    from elearn.orgs import members as users
    from elearn.orgs import services as orgs
    from elearn.study import services as study

    app = create_app()
    with app.app_context():
        db.create_all()
        org = orgs.create(None, name="基准党委", kind="committee", sector="rural")
        lecturer = users.create(None, username="bench_lecturer", name="讲师", password="Bench-passw0rd",
                                organisation=org, role="lecturer")
        course = Course(title="基准课程", category="political_theory", innovative_theory=True, lecturer=lecturer,
                        status="approved")
        lesson = Lesson(course=course, title="第一讲")
        db.session.add_all([course, lesson])
        db.session.flush()
        duration, segment = 36000.0, 6.0  # ten hours: the run never completes the lesson
        asset = MediaAsset(lesson_id=lesson.id, uploaded_by_id=lecturer.id, status="ready", progress=1.0,
                           duration_s=duration, segment_seconds=segment)
        db.session.add(asset)
        db.session.flush()
        lesson.asset_id = asset.id
        series = Series(title="基准专题", published=True, created_by_id=lecturer.id,
                        published_at=datetime.now(UTC).replace(tzinfo=None))
        series.items.append(SeriesCourse(course=course, position=0))
        series.targets.append(SeriesTarget(kind="sector", sector="rural"))
        db.session.add(series)
        db.session.commit()
        started = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=10)
        out = []
        for i in range(clients):
            member = users.create(None, username=f"bench{i}", name=f"党员{i}", password="Bench-passw0rd",
                                  organisation=org)
            sid = f"bench-session-{i:04d}-0000"
            for k in range(200):  # the first 20 minutes of media
                study.record_segment_delivery(member, asset, "720p", k, k * segment, (k + 1) * segment, sid,
                                              now=started)
            out.append((tokens.issue(member, "bench"), sid))
        return {"lesson_id": lesson.id, "clients": out}


def start_gunicorn(app_spec: str, port: int, cwd: Path, env: dict, workers: int, threads: int) -> subprocess.Popen:
    cmd = [GUNICORN, "-w", str(workers), "-k", "gthread", "--threads", str(threads), "-b", f"127.0.0.1:{port}",
           "--keep-alive", "5", "--log-level", "warning", app_spec]
    proc = subprocess.Popen(cmd, cwd=str(cwd), env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {proc.returncode}") from None
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not start")


def load(port: int, path: str, make_body, headers_for, clients: int, seconds: float) -> dict:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop_at = time.perf_counter() + seconds

    def worker(i: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while time.perf_counter() < stop_at:
            body = make_body(i, n)
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers_for(i))
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    errors[i] += 1
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (http.client.HTTPException, OSError):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            latencies[i].append(time.perf_counter() - t0)
            n += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    flat = sorted(x for per in latencies for x in per)
    if not flat:
        return {"rps": 0.0, "p50_ms": float("nan"), "p99_ms": float("nan"), "n": 0, "errors": sum(errors)}
    return {"rps": len(flat) / elapsed, "p50_ms": statistics.median(flat) * 1000,
            "p99_ms": flat[min(len(flat) - 1, int(len(flat) * 0.99))] * 1000, "n": len(flat), "errors": sum(errors)}


BARE_APP = textwrap.dedent('''
    def app(environ, start_response):
        size = int(environ.get("CONTENT_LENGTH") or 0)
        if size:
            environ["wsgi.input"].read(size)
        body = b'{"ok": true}'
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
''')

APP_MODULE = textwrap.dedent('''
    from elearn import create_app
    app = create_app()
''')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-progress-") as tmp:
        tmp = Path(tmp)
        instance = tmp / "instance"
        data = build_instance(instance, args.clients)
        (tmp / "bench_app.py").write_text(APP_MODULE)
        (tmp / "bare_app.py").write_text(BARE_APP)
        env = {**os.environ, "ELEARN_INSTANCE": str(instance),
               "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp)])}
        lesson_path = f"/api/v1/lessons/{data['lesson_id']}/progress"
        t_start = time.time()

        def report_body(i: int, n: int) -> str:
            # Each report: the next 0.05 s of media — plausible at 1× for a client posting every ~50 ms.
            start = 0.05 * n
            return json.dumps({"playback_session": data["clients"][i][1], "seq": n,
                               "intervals": [[round(start, 3), round(start + 0.05, 3)]],
                               "position": round(start + 0.05, 3), "rate": 1.0, "visible": True})

        def headers_for(i: int) -> dict:
            return {"Authorization": f"Bearer {data['clients'][i][0]}", "Content-Type": "application/json"}

        results = {}
        for name, spec, path in (("bare", "bare_app:app", "/anything"), ("progress", "bench_app:app", lesson_path)):
            port = free_port()
            proc = start_gunicorn(spec, port, tmp, env, args.workers, args.threads)
            try:
                load(port, path, report_body, headers_for, args.clients, 1.0)  # warm-up
                results[name] = load(port, path, report_body if name == "progress" else
                                     (lambda i, n: report_body(i, n + 10**6)), headers_for, args.clients,
                                     args.seconds)
            finally:
                proc.terminate()
                proc.wait(timeout=30)

        sys.path.insert(0, str(ROOT))
        from elearn import create_app
        from elearn.extensions import db
        from elearn.study.models import WatchProgress
        with create_app().app_context():
            watched = db.session.query(WatchProgress.watched_s).all()
            from sqlalchemy import text
            journal = db.session.execute(text("pragma journal_mode")).scalar()
        print(f"gunicorn gthread, {args.workers} workers × {args.threads} threads; {args.clients} keep-alive "
              f"clients; {args.seconds:.0f} s per target; SQLite (journal_mode={journal}) in a temp instance; "
              f"run {time.time() - t_start:.0f} s")
        print(f"{'target':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'errors':>8}")
        for name in ("bare", "progress"):
            r = results[name]
            print(f"{name:<10}{r['rps']:>10.1f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['n']:>10}{r['errors']:>8}")
        ratio = results["progress"]["rps"] / results["bare"]["rps"] if results["bare"]["rps"] else float("nan")
        print(f"ratio progress/bare: {ratio:.3f}  (media seconds credited across members: "
              f"{sum(w for (w,) in watched):.1f})")


if __name__ == "__main__":
    main()
