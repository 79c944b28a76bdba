"""Benchmark: progress heartbeats per second under gunicorn, against a bare endpoint, in the same run.

    .venv/bin/python benchmarks/bench_progress.py [--seconds 3] [--rounds 5] [--clients 8] [--workers 2]
                                                  [--threads 4] [--members 10 10000]

For each ``--members`` count, builds a throwaway instance (SQLite) with demo-like data — members, an approved
course published to their sector, a lesson with a ready asset, and every segment already delivered to each
member's playback session; the first ``--clients`` members report, the others have each received the first
20 minutes of the same video (their evidence rows are what a report must not scan) — then starts gunicorn
on loopback with the app plus one bare Flask route (``POST /bench/bare``: reads the body, answers a
constant), so both targets pass through the same Flask app, hooks and middleware and the ratio measures the
work of a report. A thread pool of keep-alive HTTP clients posts valid progress reports (each advancing the
member's watched media by a little, so every report is credited and written) and prints req/s, p50/p99
latency and the ratio progress/bare. The two targets run in ``--rounds`` interleaved rounds, their order
alternating, so that the drift of a shared 2-core machine falls on both: the ratio printed pools every round,
and each round's own ratio is printed beside it. A plain WSGI callable under the same gunicorn settings is printed too,
for comparison with the figures before the bare target was a Flask route.
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
STEP_S = 0.01  # media seconds per report


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_instance(instance: Path, clients: int, members: int) -> dict:
    """Create the database and data; return the lesson id and one (token, session id) per client. The
    ``members - clients`` others each get a session holding the first 200 segments of the same asset."""
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
        _add_audience(db, org.id, lesson.id, asset.id, members - clients, started, segment)
        return {"lesson_id": lesson.id, "clients": out}


def _add_audience(db, org_id: int, lesson_id: int, asset_id: int, count: int, started: datetime,
                  segment: float) -> None:
    """``count`` more members who watched the first 20 minutes of the video: rows written in bulk (the
    evidence a report must not have to scan), not through the services, so building 10,000 takes seconds."""
    from elearn.orgs.models import User
    from elearn.study.models import PlaybackSession, SegmentDelivery
    if count <= 0:
        return
    first = db.session.execute(db.select(db.func.max(User.id))).scalar() + 1
    for lo in range(0, count, 1000):
        ids = range(first + lo, first + min(count, lo + 1000))
        db.session.execute(db.insert(User.__table__), [
            {"id": uid, "username": f"audience{uid}", "name": "党员", "password_hash": "!", "role": "member",
             "category": "member", "exempt": False, "organisation_id": org_id, "active": True,
             "failed_logins": 0} for uid in ids])
        db.session.execute(db.insert(PlaybackSession.__table__), [
            {"id": f"audience-{uid:08d}", "user_id": uid, "lesson_id": lesson_id, "started_at": started,
             "last_seq": -1, "credited_s": 0.0, "version": 1} for uid in ids])
        db.session.execute(db.insert(SegmentDelivery.__table__), [
            {"session_id": f"audience-{uid:08d}", "user_id": uid, "asset_id": asset_id, "rendition": "720p",
             "segment_index": k, "start_s": k * segment, "end_s": (k + 1) * segment, "delivered_at": started,
             "credited_s": 0.0} for uid in ids for k in range(200)])
        db.session.commit()


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


def load(port: int, path: str, make_body, headers_for, clients: int, seconds: float,
         conns: list[http.client.HTTPConnection] | None = None) -> dict:
    """``clients`` keep-alive clients posting to ``path`` for ``seconds``; on ``conns`` (one per client, kept open
    afterwards) when given, so that successive loads meet the same spread of connections over the workers."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    statuses: list[dict[str, int]] = [{} for _ in range(clients)]  # what the errors were, per client
    stop_at = time.perf_counter() + seconds

    def worker(i: int):
        conn = conns[i] if conns else http.client.HTTPConnection("127.0.0.1", port, timeout=30)
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
                    statuses[i][str(resp.status)] = statuses[i].get(str(resp.status), 0) + 1
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (http.client.HTTPException, OSError) as exc:
                errors[i] += 1
                statuses[i][type(exc).__name__] = statuses[i].get(type(exc).__name__, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            latencies[i].append(time.perf_counter() - t0)
            n += 1
        if conns:
            conns[i] = conn
        else:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    kinds: dict[str, int] = {}
    for per_client in statuses:
        for kind, count in per_client.items():
            kinds[kind] = kinds.get(kind, 0) + count
    if kinds:
        print(f"  {path}: errors {kinds}")
    return summary([x for per in latencies for x in per], elapsed, sum(errors))


def summary(latencies: list[float], elapsed: float, errors: int) -> dict:
    flat = sorted(latencies)
    if not flat:
        return {"rps": 0.0, "p50_ms": float("nan"), "p99_ms": float("nan"), "n": 0, "errors": errors,
                "latencies": [], "elapsed": elapsed}
    return {"rps": len(flat) / elapsed, "p50_ms": statistics.median(flat) * 1000,
            "p99_ms": flat[min(len(flat) - 1, int(len(flat) * 0.99))] * 1000, "n": len(flat), "errors": errors,
            "latencies": flat, "elapsed": elapsed}


def pooled(runs: list[dict]) -> dict:
    """The runs of one target as one: every request over the time of all of them."""
    return summary([x for r in runs for x in r["latencies"]], sum(r["elapsed"] for r in runs),
                   sum(r["errors"] for r in runs))


def balanced_connections(port: int, clients: int, workers: int) -> list[http.client.HTTPConnection]:
    """``clients`` keep-alive connections spread evenly over the workers (as near as they divide): connections are
    opened, asked which worker holds them, and kept while that worker has fewer than its share."""
    share = -(-clients // workers)
    held: dict[str, list[http.client.HTTPConnection]] = {}
    kept: list[http.client.HTTPConnection] = []
    for _attempt in range(50 * clients):
        if len(kept) == clients:
            break
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/bench/bare", body="{}", headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        pid = resp.getheader("X-Bench-Worker", "")
        if len(held.setdefault(pid, [])) < share:
            held[pid].append(conn)
            kept.append(conn)
        else:
            conn.close()
    else:
        raise SystemExit(f"could not spread {clients} connections over {workers} workers")
    return kept


WSGI_APP = textwrap.dedent('''
    def app(environ, start_response):
        size = int(environ.get("CONTENT_LENGTH") or 0)
        if size:
            environ["wsgi.input"].read(size)
        body = b'{"ok": true}'
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
''')

APP_MODULE = textwrap.dedent('''
    import os

    from flask import jsonify, request

    from elearn import create_app
    from elearn.extensions import csrf

    app = create_app()


    def bare():
        request.get_data()
        return jsonify(ok=True)


    app.add_url_rule("/bench/bare", "bench_bare", bare, methods=["POST"])
    csrf.exempt(bare)


    @app.after_request
    def worker_pid(response):
        response.headers["X-Bench-Worker"] = str(os.getpid())  # which worker holds a connection (both targets)
        return response
''')


def run(args: argparse.Namespace, members: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-progress-") as tmp_name:
        tmp = Path(tmp_name)
        instance = tmp / "instance"
        t_build = time.time()
        data = build_instance(instance, args.clients, max(members, args.clients))
        t_build = time.time() - t_build
        (tmp / "bench_app.py").write_text(APP_MODULE)
        (tmp / "wsgi_app.py").write_text(WSGI_APP)
        env = {**os.environ, "ELEARN_INSTANCE": str(instance),
               "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp)])}
        lesson_path = f"/api/v1/lessons/{data['lesson_id']}/progress"
        t_start = time.time()
        load_before = os.getloadavg()[0]

        sent = [0] * args.clients  # reports per client so far, warm-up included: seq and media go on from there

        def report_body(i: int, _n: int) -> str:
            # Each report: the next 10 ms of media — what a client posting every 10 ms plays at 1×, so that the
            # member's clock (2 media seconds per second) never cuts a report short below 200 reports/s/client.
            n = sent[i]
            sent[i] += 1
            start = STEP_S * n
            return json.dumps({"playback_session": data["clients"][i][1], "seq": n,
                               "intervals": [[round(start, 3), round(start + STEP_S, 3)]],
                               "position": round(start + STEP_S, 3), "rate": 1.0, "visible": True})

        def headers_for(i: int) -> dict:
            return {"Authorization": f"Bearer {data['clients'][i][0]}", "Content-Type": "application/json"}

        def plain_headers(_i: int) -> dict:
            return {"Content-Type": "application/json"}

        def bare_body(i: int, n: int) -> str:
            return json.dumps({"playback_session": data["clients"][i][1], "seq": n, "intervals": [[n, n + 0.05]],
                               "position": n + 0.05, "rate": 1.0, "visible": True})

        results = {}
        port = free_port()
        proc = start_gunicorn("bench_app:app", port, tmp, env, args.workers, args.threads)
        try:
            load(port, "/bench/bare", bare_body, plain_headers, args.clients, 1.0)  # warm-up
            load(port, lesson_path, report_body, headers_for, args.clients, 1.0)  # warm-up
            # Interleaved rounds, the order alternating (bare, progress; progress, bare; …): the machine's drift —
            # other processes, the clock frequency — falls on both targets alike, and each round gives a ratio.
            # The rounds share their connections, spread evenly over the workers: a keep-alive connection stays
            # with the worker that accepted it, and a spread of, say, six and two over the two workers (each bound
            # to one core by the GIL) changed both targets' throughput, and their ratio, from run to run.
            conns = balanced_connections(port, args.clients, args.workers)
            rounds: dict[str, list[dict]] = {"bare": [], "progress": []}
            for r in range(args.rounds):
                for name in (("bare", "progress") if r % 2 == 0 else ("progress", "bare")):
                    rounds[name].append(
                        load(port, "/bench/bare", bare_body, plain_headers, args.clients, args.seconds, conns)
                        if name == "bare" else
                        load(port, lesson_path, report_body, headers_for, args.clients, args.seconds, conns))
            for conn in conns:
                conn.close()
            results["bare"], results["progress"] = pooled(rounds["bare"]), pooled(rounds["progress"])
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        port = free_port()
        proc = start_gunicorn("wsgi_app:app", port, tmp, env, args.workers, args.threads)
        try:
            load(port, "/anything", bare_body, plain_headers, args.clients, 0.5)
            results["wsgi"] = load(port, "/anything", bare_body, plain_headers, args.clients, args.seconds)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

        sys.path.insert(0, str(ROOT))
        from sqlalchemy import text

        from elearn import create_app
        from elearn.extensions import db
        from elearn.study.models import WatchProgress
        with create_app().app_context():
            watched = db.session.query(WatchProgress.watched_s).all()
            journal = db.session.execute(text("pragma journal_mode")).scalar()
        print(f"{members} members ({members - args.clients} of them with 200 segments of evidence each, built in "
              f"{t_build:.0f} s); gunicorn gthread, {args.workers} workers × {args.threads} threads; "
              f"{args.clients} keep-alive clients; {args.rounds} interleaved rounds of {args.seconds:.0f} s per "
              f"target; SQLite "
              f"(journal_mode={journal}); load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} "
              f"after; run {time.time() - t_start:.0f} s")
        print(f"{'target':<22}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'errors':>8}")
        labels = {"bare": "bare (Flask route)", "progress": "progress", "wsgi": "bare (plain WSGI)"}
        for name in ("bare", "progress", "wsgi"):
            r = results[name]
            print(f"{labels[name]:<22}{r['rps']:>10.1f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['n']:>10}"
                  f"{r['errors']:>8}")
        ratio = results["progress"]["rps"] / results["bare"]["rps"] if results["bare"]["rps"] else float("nan")
        per_round = [p["rps"] / b["rps"] if b["rps"] else float("nan")
                     for b, p in zip(rounds["bare"], rounds["progress"], strict=True)]
        pairs = ", ".join(f"{p['rps']:.0f}/{b['rps']:.0f}" for b, p in zip(rounds["bare"], rounds["progress"],
                                                                          strict=True))
        print(f"ratio per round: {', '.join(f'{x:.3f}' for x in per_round)} (progress/bare req/s: {pairs}); "
              f"median {statistics.median(per_round):.3f}")
        print(f"ratio progress/bare: {ratio:.3f}  (all rounds pooled; progress/plain WSGI: "
              f"{results['progress']['rps'] / results['wsgi']['rps']:.3f}; media seconds credited across "
              f"members: {sum(w for (w,) in watched):.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per target and round (default 3)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="interleaved rounds of the bare route and the reports (default 5)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--members", type=int, nargs="+", default=[10, 10000],
                        help="audience sizes of the video to measure at (default 10 and 10,000)")
    args = parser.parse_args()
    for members in args.members:
        run(args, members)


if __name__ == "__main__":
    main()
