"""Load benchmark: gunicorn on this machine, simulated members browsing, watching and searching on loopback.

    .venv/bin/python benchmarks/bench_load.py [--minutes 3] [--members 500] [--workers 4] [--threads 4]
                                              [--clients 50]

Builds a throwaway instance (SQLite): ``elearn init-db`` (plus create_all while the migrations are being
regenerated), ``elearn demo --no-courses``, then an organisation of ``--members`` members and two courses
whose lessons are a real transcoded clip (ffmpeg), published to the members' sector, and ``elearn reindex``.
gunicorn serves it on 127.0.0.1; ``--clients`` threads with keep-alive connections drive the members (each
thread its share of members, each member its own session cookie) for ``--minutes``:

* browsing: home page, a course page (every ~20 s);
* watching: the lesson page, master and variant playlists, the segments (and their keys) buffered ahead of
  the playhead, then every 15 s a progress report with the interval played since the last report, at the
  member's playback rate (1.0–2.0) times the real seconds elapsed, and the next segments: the honest player,
  so the server's budget (elapsed × 2.0 plus a few seconds of slack) and its evidence rules should never cut
  anything;
* searching: the search page with a query (every ~60 s).

Every loop is bounded by the run's deadline. Afterwards it prints the error rate, throughput and p50/p99
latency per endpoint, and checks, per member and lesson, that the watched seconds the server credits equal
the union of the intervals in the reports it answered 2xx, and that the ledger holds exactly one lesson entry
(the lesson's 学时) for each lesson whose union reached the completion coverage.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINDIR = Path(sys.executable).parent
PASSWORD = "Bench-load-passw0rd"
REPORT_EVERY_S = 15.0
BROWSE_EVERY_S = 20.0
SEARCH_EVERY_S = 60.0
RATES = (1.0, 1.0, 1.25, 1.5, 2.0)
SEARCH_TERMS = ("党章", "理论学习", "初心使命", "党员教育", "形势政策", "革命传统")
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], env: dict) -> None:
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")


def make_clip(path: Path, seconds: int) -> bytes:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                    str(path)], check=True, stdin=subprocess.DEVNULL)
    return path.read_bytes()


def build(instance: Path, members: int, clip_seconds: int) -> dict:
    """The instance: schema, demo organisations, our members and two transcoded courses; returns ids."""
    # Hundreds of members sign in from this one address and report as fast as the server answers: the rate
    # limits would refuse them (that is their job); this measures the work behind them.
    env = dict(os.environ, ELEARN_INSTANCE=str(instance), ELEARN_SECRET_KEY="bench-load-only",
               ELEARN_RATE_LIMITS="0")
    for name in ("DATABASE_URL", "DATABASE_URL_TEST", "ELEARN_QUEUE_URL", "ELEARN_DATA_DIR", "ELEARN_INDEX_DIR"):
        env.pop(name, None)
    elearn = str(BINDIR / "elearn")
    run([elearn, "init-db"], env)
    run([sys.executable, "-c", "from elearn import create_app; from elearn.extensions import db\n"
         "app = create_app()\nwith app.app_context(): db.create_all()"], env)
    run([elearn, "demo", "--no-courses"], env)
    clip = make_clip(instance / "clip.mp4", clip_seconds)

    os.environ.update(ELEARN_INSTANCE=str(instance), ELEARN_SECRET_KEY="bench-load-only", ELEARN_QUEUE_IMMEDIATE="1")
    for name in ("DATABASE_URL", "DATABASE_URL_TEST", "ELEARN_QUEUE_URL"):
        os.environ.pop(name, None)
    from elearn import create_app

    out = populate(create_app(), members, clip)
    os.environ.pop("ELEARN_QUEUE_IMMEDIATE")
    run([elearn, "reindex"], env)
    out["env"] = env
    return out


def populate(app, members: int, clip: bytes) -> dict:
    """Our organisation, ``members`` members (sharing one argon2 hash), a lecturer and two courses whose lesson
    is ``clip`` transcoded (the app's queue must run jobs inline), published to the rural sector."""
    import io
    from unittest import mock

    from elearn import clock
    from elearn.auth import passwords
    from elearn.courses.models import Course, Lesson, Series, SeriesCourse, SeriesTarget
    from elearn.extensions import db
    from elearn.media import uploads
    from elearn.media.models import MediaAsset
    from elearn.orgs import members as users
    from elearn.orgs import services as orgs

    with app.app_context():
        org = orgs.create(None, name="负载测试党委", kind="committee", sector="rural")
        lecturer = users.create(None, username="load_lecturer", name="负载讲师", password=PASSWORD,
                                organisation=org, role="lecturer")
        first = users.create(None, username="load0", name="党员0", password=PASSWORD, organisation=org)
        # argon2 is slow on purpose: the other members share the first one's hash.
        with mock.patch.object(passwords, "hash_password", lambda _p, **_k: first.password_hash):
            for i in range(1, members):
                users.create(None, username=f"load{i}", name=f"党员{i}", password=PASSWORD, organisation=org,
                             commit=False)
        db.session.commit()
        courses = []
        for title, text in (("党章学习专题", "学习党章，理论学习与党员教育"),
                            ("形势政策与初心使命", "形势政策教育，革命传统")):
            course = Course(title=title, description=text, category="political_theory", innovative_theory=True,
                            lecturer=lecturer, status="draft")
            lesson = Lesson(course=course, title=f"{title} 第一讲", position=0)
            db.session.add_all([course, lesson])
            db.session.commit()
            upload = uploads.create_upload(lecturer, lesson, filename="clip.mp4", size=len(clip))
            uploads.append_chunk(lecturer, upload, 0, io.BytesIO(clip))  # transcoded inline (immediate queue)
            asset = db.session.get(MediaAsset, upload.asset_id)
            db.session.refresh(asset)
            if asset.status != "ready":
                raise SystemExit(f"transcode failed: {asset.error}")
            course.status = "approved"
            courses.append(course)
        series = Series(title="负载测试专题", published=True, created_by_id=lecturer.id,
                        published_at=clock.now_utc())
        for i, course in enumerate(courses):
            series.items.append(SeriesCourse(course=course, position=i))
        series.targets.append(SeriesTarget(kind="sector", sector="rural"))
        db.session.add(series)
        db.session.commit()
        out = {"courses": [{"id": c.id, "lesson_id": c.lessons[0].id, "asset_id": c.lessons[0].asset_id,
                            "duration": float(c.lessons[0].duration_s)} for c in courses]}
        db.session.remove()
        db.engine.dispose()
    return out


class StackSite:
    """The scale-out stack of ``deploy/`` on loopback, started as tests/stack starts it: a Redis of its own, the
    given (empty) PostgreSQL database, two gunicorn nodes with the web unit's command line and one worker, and
    nginx in front (the segment files served by nginx, playlists and keys by the nodes)."""

    def __init__(self, root: Path, database_url: str, members: int, clip_seconds: int):
        sys.path.insert(0, str(ROOT))
        from tests.stack.stack import RedisServer, Stack

        self.redis = RedisServer(root / "redis").start()
        self.stack = Stack(root / "site", database_url=database_url, queue_url=self.redis.url(2),
                           redis_url=self.redis.url(3), ELEARN_RATE_LIMITS="0")
        os.environ["ELEARN_PII_KEYS"] = self.stack.env["ELEARN_PII_KEYS"]  # this process reads the same rows
        self.stack.init_db()
        clip = make_clip(root / "clip.mp4", clip_seconds)
        self.data = populate(self.stack.app(immediate=True), members, clip)
        self.nodes = self.stack.start_web("web1", "web2")
        self.stack.start_worker()
        self.port = self.stack.start_nginx(self.nodes).port

    def app(self):
        return self.stack.app()

    def log_tails(self, chars: int = 3000) -> str:
        return "\n".join(f"--- {node.name}\n" + node.log.read_text(encoding="utf-8", errors="replace")[-chars:]
                         for node in self.nodes)

    def close(self) -> None:
        self.stack.close()
        self.redis.stop()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: dict[str, list[str]] = defaultdict(list)

    def add(self, endpoint: str, seconds: float, ok: bool, detail: str = "") -> None:
        with self.lock:
            self.latency[endpoint].append(seconds)
            if not ok:
                self.errors[endpoint] += 1
                if len(self.samples[endpoint]) < 3:
                    self.samples[endpoint].append(detail)


class Member:
    """One simulated member: its cookies, what it is watching, and what it reported (client-side truth)."""

    def __init__(self, index: int, courses: list[dict], rng: random.Random):
        self.username = f"load{index}"
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.rng = rng
        self.courses = courses
        self.rate = rng.choice(RATES)
        self.watching: dict | None = None
        self.accepted: dict[int, list[list[float]]] = defaultdict(list)  # lesson id -> intervals answered 2xx
        self.uncertain: dict[int, int] = defaultdict(int)  # reports without a clear answer
        self.reasons: dict[str, int] = defaultdict(int)  # the server's "reason" on 2xx answers
        now = self.created = time.monotonic()
        self.next_browse = now + rng.uniform(0, BROWSE_EVERY_S)
        self.next_search = now + rng.uniform(0, SEARCH_EVERY_S)
        self.next_report = now + rng.uniform(0, REPORT_EVERY_S)
        self.logged_in = False


class Client:
    """A thread's keep-alive connection, used in turn by its members."""

    def __init__(self, port: int, stats: Stats):
        self.port, self.stats = port, stats
        self.conn: http.client.HTTPConnection | None = None

    def request(self, member: Member, endpoint: str, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int | None, dict, bytes]:
        headers = dict(headers or {})
        if member.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in member.cookies.items())
        t0 = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            self.stats.add(endpoint, time.perf_counter() - t0, False, type(exc).__name__)
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            return None, {}, b""
        elapsed = time.perf_counter() - t0
        for key, value in resp.getheaders():
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                member.cookies[name.strip()] = rest.split(";", 1)[0]
        ok = resp.status < 400
        self.stats.add(endpoint, elapsed, ok, f"{resp.status} {data[:200]!r}")
        if (resp.getheader("Connection") or "").lower() == "close":
            self.conn.close()
            self.conn = None
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def close(self):
        if self.conn is not None:
            self.conn.close()


def login(client: Client, member: Member) -> bool:
    status, _h, page = client.request(member, "GET /auth/login", "GET", "/auth/login")
    match = CSRF_META.search(page.decode("utf-8", "replace")) if status == 200 else None
    if not match:
        return False
    form = urllib.parse.urlencode({"username": member.username, "password": PASSWORD, "csrf_token": match.group(1)})
    status, headers, _b = client.request(member, "POST /auth/login", "POST", "/auth/login", form.encode(),
                                         {"Content-Type": "application/x-www-form-urlencoded"})
    if status != 302 or "/auth/login" in headers.get("location", ""):
        return False
    member.logged_in = True
    return True


def browse(client: Client, member: Member) -> None:
    if member.rng.random() < 0.5:
        status, _h, page = client.request(member, "GET /", "GET", "/")
        match = CSRF_META.search(page.decode("utf-8", "replace")) if status == 200 else None
        if match:
            member.csrf = match.group(1)
    else:
        course = member.rng.choice(member.courses)
        client.request(member, "GET /learn/courses/<id>", "GET", f"/learn/courses/{course['id']}")


def search(client: Client, member: Member) -> None:
    q = urllib.parse.quote(member.rng.choice(SEARCH_TERMS))
    client.request(member, "GET /search/?q=", "GET", f"/search/?q={q}")


def _uris(text: str, base: str) -> list[str]:
    return [urllib.parse.urljoin(base, line.strip()) for line in text.splitlines()
            if line.strip() and not line.startswith("#")]


def start_watching(client: Client, member: Member) -> None:
    course = member.rng.choice(member.courses)
    status, _h, page = client.request(member, "GET /learn/lessons/<id>", "GET", f"/learn/lessons/{course['lesson_id']}")
    match = CSRF_META.search(page.decode("utf-8", "replace")) if status == 200 else None
    if match:
        member.csrf = match.group(1)
    ps = str(uuid.uuid4())
    master_url = f"/learn/media/{course['asset_id']}/master.m3u8?ps={ps}"
    status, _h, master = client.request(member, "GET playlist", "GET", master_url)
    if status != 200:
        return
    variant = next(u for u in _uris(master.decode(), master_url) if u.split("?")[0].endswith(".m3u8"))
    status, _h, playlist = client.request(member, "GET playlist", "GET", variant)
    if status != 200:
        return
    segments, start, key = [], 0.0, None
    lines = playlist.decode().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-KEY:"):
            found = re.search(r'URI="([^"]+)"', line)
            key = urllib.parse.urljoin(variant, found.group(1)) if found else None
        elif line.startswith("#EXTINF:"):
            length = float(line[8:].split(",")[0])
            segments.append((start, start + length, urllib.parse.urljoin(variant, lines[i + 1].strip()), key))
            start += length
    member.watching = {"course": course, "ps": ps, "seq": 0, "position": 0.0, "segments": segments,
                       "fetched": set(), "keys": set(), "since": time.monotonic()}
    fetch_segments(client, member, 0.0, buffer_ahead(member))  # the player buffers before it plays


def buffer_ahead(member: Member) -> float:
    """Media seconds the player holds ahead of the playhead: what plays until the next report, and a little more
    (a segment delivered only just before the report claiming it could not have been played yet: "early")."""
    return member.rate * REPORT_EVERY_S + 10.0


def buffered_until(w: dict, start: float) -> float:
    """The end of the segments fetched without a gap from the one holding ``start``."""
    end = start
    for index, (s0, s1, _url, _key) in enumerate(w["segments"]):
        if s1 <= start:
            continue
        if index not in w["fetched"] or s0 > end + 1e-6:
            break
        end = s1
    return end


def fetch_segments(client: Client, member: Member, start: float, end: float) -> None:
    """Fetch the not yet fetched segments overlapping [start, end] (and the one holding ``start``)."""
    w = member.watching
    for index, (s0, s1, url, key) in enumerate(w["segments"]):
        if s1 > start and s0 <= end and index not in w["fetched"]:
            if key is not None and key not in w["keys"]:  # the player asks for a segment's key before it
                status, _h, _b = client.request(member, "GET key", "GET", key)
                if status == 200:
                    w["keys"].add(key)
            status, _h, _b = client.request(member, "GET segment", "GET", url)
            if status == 200:
                w["fetched"].add(index)


def report(client: Client, member: Member) -> None:
    w = member.watching
    now = time.monotonic()
    duration = w["course"]["duration"]
    start = w["position"]
    # The playhead stops where the buffer ends, as a real player's does (it stalls until the next segment is in):
    # under load a thread's members report later than every REPORT_EVERY_S, and media never fetched was never
    # played (the server refuses such a claim as lacking evidence, rightly).
    end = min(duration, start + member.rate * (now - w["since"]), buffered_until(w, start))
    if end - start < 0.5:  # stalled: nothing new to report; fetch on and count the time from now
        w["since"] = now
        fetch_segments(client, member, start, start + buffer_ahead(member))
        return
    w["seq"] += 1
    body = json.dumps({"playback_session": w["ps"], "seq": w["seq"], "intervals": [[round(start, 3), round(end, 3)]],
                       "position": round(end, 3), "rate": member.rate, "visible": True}).encode()
    lesson_id = w["course"]["lesson_id"]
    for _attempt in range(3):  # the same seq again after an error, as the player does
        status, _h, data = client.request(member, "POST progress", "POST", f"/api/v1/lessons/{lesson_id}/progress",
                                          body, {"Content-Type": "application/json", "X-CSRFToken": member.csrf})
        if status is not None and status < 500:
            break
    if status == 200:
        member.accepted[lesson_id].append([round(start, 3), round(end, 3)])
        reason = json.loads(data).get("reason")
        member.reasons[reason or "credited"] += 1
    elif status is None or status >= 500:
        member.uncertain[lesson_id] += 1
    w["position"], w["since"] = end, now
    if end >= duration - 1e-6:
        member.watching = None  # finished: pick another lesson next time
    else:
        fetch_segments(client, member, end, end + buffer_ahead(member))


def drive(port: int, members: list[Member], stats: Stats, phase: dict) -> None:
    """Log this thread's members in (the ramp, timed apart), then run their schedules until the deadline."""
    client = Client(port, stats)
    try:
        for member in members:
            if time.monotonic() < phase["ramp_deadline"]:
                login(client, member)
        phase["ramped"].wait()
        deadline = phase["deadline"]
        for member in members:  # the schedules start now, not before the ramp
            member.next_browse += deadline - phase["minutes"] * 60 - member.created
            member.next_search += deadline - phase["minutes"] * 60 - member.created
            member.next_report += deadline - phase["minutes"] * 60 - member.created
        while time.monotonic() < deadline:
            now = time.monotonic()
            soonest = deadline
            for member in members:
                if not member.logged_in:
                    continue
                if now >= member.next_report:
                    if member.watching is None:
                        start_watching(client, member)
                    else:
                        report(client, member)
                    member.next_report = now + REPORT_EVERY_S
                if now >= member.next_browse:
                    browse(client, member)
                    member.next_browse = now + member.rng.uniform(0.5, 1.5) * BROWSE_EVERY_S
                if now >= member.next_search:
                    search(client, member)
                    member.next_search = now + member.rng.uniform(0.5, 1.5) * SEARCH_EVERY_S
                soonest = min(soonest, member.next_report, member.next_browse, member.next_search)
                if time.monotonic() >= deadline:
                    break
            time.sleep(max(0.0, min(soonest, deadline) - time.monotonic()))
    finally:
        client.close()


def check_credits(app, members: list[Member], courses: list[dict]) -> tuple[int, int, list[str]]:
    """Compare, per member and lesson, the server's watched union and ledger with what the client reported."""
    from elearn.extensions import db
    from elearn.ledger import services as ledger
    from elearn.ledger.models import StudyCredit
    from elearn.orgs.models import User
    from elearn.policy import POLICY
    from elearn.study import intervals
    from elearn.study.models import WatchProgress

    durations = {c["lesson_id"]: c["duration"] for c in courses}
    checked, mismatches, samples = 0, 0, []
    with app.app_context():
        ids = dict(db.session.execute(db.select(User.username, User.id)).all())
        watched = {(r.user_id, r.lesson_id): r for r in db.session.execute(db.select(WatchProgress)).scalars()}
        credits = defaultdict(list)
        for c in db.session.execute(db.select(StudyCredit).where(StudyCredit.source_kind == "lesson")).scalars():
            credits[(c.user_id, c.source_id)].append(c.hours)
        for member in members:
            uid = ids[member.username]
            for lesson_id, duration in durations.items():
                expected = intervals.clip(intervals.normalise(member.accepted.get(lesson_id, [])), 0.0, duration)
                row = watched.get((uid, lesson_id))
                server = intervals.normalise(row.intervals) if row is not None else []
                want_credit = [ledger.hours_for_seconds(duration)] \
                    if intervals.length(expected) >= POLICY.completion_coverage * duration - 1e-6 else []
                checked += 1
                same = abs(intervals.length(server) - intervals.length(expected)) < 1e-3 \
                    and credits.get((uid, lesson_id), []) == want_credit
                if not same:
                    if member.uncertain.get(lesson_id) and intervals.length(server) >= intervals.length(expected):
                        continue  # a report whose answer was lost may have been credited: not a mismatch
                    mismatches += 1
                    if len(samples) < 5:
                        samples.append(f"{member.username} lesson {lesson_id}: "
                                       f"client {intervals.length(expected):.3f} s "
                                       f"{want_credit}, server {intervals.length(server):.3f} s "
                                       f"{credits.get((uid, lesson_id), [])}")
        db.session.remove()
        db.engine.dispose()
    return checked, mismatches, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="steady load after every member logged in")
    parser.add_argument("--ramp-minutes", type=float, default=6.0, help="at most this long for the logins")
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--clients", type=int, default=50, help="load-generator threads (connections)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clip-seconds", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default="",
                        help="an empty PostgreSQL database: run on the scale-out stack (nginx, two nodes, Redis)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        t0 = time.time()
        site, server, log = None, None, None
        if args.database_url:
            site = StackSite(Path(tmp), args.database_url, args.members, args.clip_seconds)
            data, port = site.data, site.port
            app = site.app()
            where = (f"nginx → 2 gunicorn nodes (web unit: gthread × 4 threads, WEB_CONCURRENCY "
                     f"{site.stack.env['WEB_CONCURRENCY']}) + 1 worker, PostgreSQL, Redis")
        else:
            instance = Path(tmp) / "instance"
            data = build(instance, args.members, args.clip_seconds)
            port = free_port()
            log = open(instance / "gunicorn.log", "w")
            server = subprocess.Popen([str(BINDIR / "gunicorn"), "-w", str(args.workers), "-k", "gthread",
                                       "--threads", str(args.threads), "-b", f"127.0.0.1:{port}", "--keep-alive",
                                       "30", "--timeout", "120", "--log-level", "warning", "elearn:create_app()"],
                                      cwd=ROOT, env=data["env"], stdout=log, stderr=log, start_new_session=True)
            from elearn import create_app
            app = create_app()
            where = f"gunicorn gthread {args.workers} workers × {args.threads} threads, SQLite"
        setup_s = time.time() - t0
        stats = Stats()
        try:
            deadline = time.time() + 60
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if (server is not None and server.poll() is not None) or time.time() > deadline:
                        raise SystemExit("the site did not start") from None
                    time.sleep(0.2)
            rng = random.Random(args.seed)
            members = [Member(i, data["courses"], random.Random(rng.random())) for i in range(args.members)]
            ramp_began = time.monotonic()
            ramped = threading.Barrier(args.clients + 1)
            phase = {"ramp_deadline": ramp_began + args.ramp_minutes * 60, "ramped": ramped, "deadline": 0.0,
                     "minutes": args.minutes}
            threads = [threading.Thread(target=drive, args=(port, members[i::args.clients], stats, phase))
                       for i in range(args.clients)]
            for t in threads:
                t.start()
            # The ramp: every member logs in (argon2 verification, deliberately slow), timed apart.
            while ramped.n_waiting < args.clients and time.monotonic() < phase["ramp_deadline"] + 120:
                time.sleep(0.2)
            ramp_s = time.monotonic() - ramp_began
            with stats.lock:
                ramp_latency, ramp_errors = stats.latency, stats.errors
                stats.latency, stats.errors = defaultdict(list), defaultdict(int)
            began = time.monotonic()
            phase["deadline"] = began + args.minutes * 60
            ramped.wait()
            for t in threads:
                t.join(timeout=args.minutes * 60 + 300)
            elapsed = time.monotonic() - began
        finally:
            if site is not None:
                if any(stats.errors.values()) or any(stats.samples.values()):
                    print(site.log_tails(), file=sys.stderr)
                site.close()
            else:
                server.terminate()
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
                log.close()

        checked, mismatches, samples = check_credits(app, members, data["courses"])
        total = sum(len(v) for v in stats.latency.values())
        errors = sum(stats.errors.values())
        print(f"bench_load: {args.members} members on {args.clients} keep-alive connections, {where}, "
              f"{os.cpu_count()} CPUs; "
              f"setup {setup_s:.0f} s, run {elapsed:.0f} s; lessons of {args.clip_seconds} s (real HLS)")
        logged_in = sum(m.logged_in for m in members)
        logins = sorted(ramp_latency.get("POST /auth/login", [0.0]))
        print(f"ramp: {logged_in}/{args.members} members logged in over {ramp_s:.0f} s "
              f"({sum(len(v) for v in ramp_latency.values())} requests, {sum(ramp_errors.values())} errors; "
              f"POST /auth/login p50 {statistics.median(logins) * 1000:.0f} ms, "
              f"p99 {logins[min(len(logins) - 1, int(len(logins) * 0.99))] * 1000:.0f} ms: argon2)")
        print(f"steady load for {elapsed:.0f} s:")
        print(f"{'endpoint':<26}{'requests':>9}{'errors':>8}{'err %':>7}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}")
        for endpoint in sorted(stats.latency):
            lat = sorted(stats.latency[endpoint])
            n, e = len(lat), stats.errors[endpoint]
            print(f"{endpoint:<26}{n:>9}{e:>8}{100 * e / n:>7.2f}{n / elapsed:>8.1f}"
                  f"{statistics.median(lat) * 1000:>9.1f}{lat[min(n - 1, int(n * 0.99))] * 1000:>9.1f}")
        flat = sorted(x for v in stats.latency.values() for x in v) or [0.0]
        print(f"{'all':<26}{total:>9}{errors:>8}{100 * errors / max(total, 1):>7.2f}{total / elapsed:>8.1f}"
              f"{statistics.median(flat) * 1000:>9.1f}{flat[min(len(flat) - 1, int(len(flat) * 0.99))] * 1000:>9.1f}")
        for endpoint, sample in stats.samples.items():
            print(f"  errors on {endpoint}: {sample}")
        reports = sum(len(v) for m in members for v in m.accepted.values())
        media = sum(sum(e - s for s, e in v) for m in members for v in m.accepted.values())
        print(f"credit check: {checked} member×lesson pairs, {reports} reports answered 2xx "
              f"({media / 3600:.1f} media hours reported), mismatches: {mismatches}")
        reasons = defaultdict(int)
        for m in members:
            for k, v in m.reasons.items():
                reasons[k] += v
        print("report answers: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
        for line in samples:
            print("  " + line)
        if mismatches:
            sys.exit(1)


if __name__ == "__main__":
    main()
