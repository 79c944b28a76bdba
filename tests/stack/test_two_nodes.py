"""Two web nodes (gunicorn with the web unit's command line, each with its own instance folder as on two
machines) on one PostgreSQL and one Redis, behind nginx as a round-robin load balancer, no sticky sessions.
A member signs in, watches a real encrypted lesson with her progress reports landing on both nodes in turn,
searches and reads her credits: the figures are those one node (the app in this process) computes, whichever
node answers; the sign-in and its end are server-side, seen by both; the rate limits are counted together."""
from __future__ import annotations

import http.client
import json
import re
import time
import urllib.parse
import uuid

import pytest
from sqlalchemy import select

from elearn import policy
from elearn.auth.models import LoginSession
from elearn.extensions import db
from elearn.ledger import requirements
from elearn.orgs import members as users
from elearn.orgs.models import User
from tests.media.clips import make_clip, needs_ffmpeg
from tests.reliability import seed
from tests.reliability.live import Browser, media_urls, stop

pytestmark = [pytest.mark.stack, pytest.mark.slow, needs_ffmpeg]
MEMBER_ADDRESS = "127.0.0.2"  # loopback too: nginx sees the member come from here, the nodes see nginx
DECLARED_HOURS = 1.5
STEP_S = 0.5  # media seconds per report, one report per STEP_S of wall-clock time (real-time playback)
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Member(Browser):
    """A browser tab on another loopback address than nginx's own."""

    def __init__(self, port: int, address: str = MEMBER_ADDRESS):
        super().__init__(port)
        self.address = address

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout,
                                                   source_address=(self.address, 0))
        return self.conn


class Direct(Browser):
    """A tab straight to one node, a new connection per request (gunicorn drops idle ones after 2 s)."""

    def request(self, *args, **kwargs):
        self.reset()
        return super().request(*args, **kwargs)


@pytest.fixture(scope="module")
def site(make_stack, redis_urls, postgres_url, tmp_path_factory):
    if postgres_url is None:
        pytest.skip("two web nodes need one PostgreSQL: set DATABASE_URL_TEST=postgresql://… (.ci/run does)")
    stack = make_stack(database_url=postgres_url, queue_url=redis_urls[0], redis_url=redis_urls[1])
    stack.init_db()
    clip = make_clip(tmp_path_factory.mktemp("clip") / "lesson.mp4", seconds=7).read_bytes()
    app = stack.app(immediate=True)
    with app.app_context():
        org, lecturer = seed.organisation_and_lecturer()
        watcher, guesser = (users.create(None, username=name, name=name, password=seed.PASSWORD, organisation=org)
                            for name in ("watcher", "guesser"))
        course = seed.published_course(lecturer, title="两个节点的课程")
        course.declared_hours = DECLARED_HOURS  # a seven-second clip is worth 0.00 学时 of watch time
        db.session.commit()
        lesson = course.lessons[0]
        asset = seed.transcoded_asset(lecturer, lesson, clip)
        db.session.refresh(lesson)
        ids = {"watcher": watcher.username, "watcher_id": watcher.id, "guesser": guesser.username,
               "lesson": lesson.id, "asset": asset.id, "course": course.id, "duration": float(lesson.duration_s)}
        db.session.remove()
    nodes = stack.start_web("web1", "web2")
    nginx = stack.start_nginx(nodes)
    yield stack, app, nodes, nginx, ids
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _get_json(tab: Browser, path: str) -> dict:
    status, _h, body = tab.get(path)
    assert status == 200, (path, status, body[:300])
    return json.loads(body)


def test_a_member_watches_on_two_nodes_and_is_credited_as_on_one(site):
    stack, app, nodes, nginx, ids = site
    # Each node runs the environment file's WEB_CONCURRENCY worker processes (gunicorn reads it itself).
    workers = int(stack.env["WEB_CONCURRENCY"])
    assert [len(node.access_lines("Booting worker", at_least=workers)) for node in nodes] == [workers] * 2
    tab = Member(nginx.port)
    tab.login(ids["watcher"], seed.PASSWORD)
    # The sign-in is a row in the database (no sticky sessions): the same cookie on each node directly.
    direct = []
    for node in nodes:
        other = Direct(node.port)
        other.cookies = dict(tab.cookies)
        assert _get_json(other, "/api/v1/me/credits")["user_id"] == ids["watcher_id"]
        direct.append(other)
    with app.app_context():
        sessions = db.session.execute(select(LoginSession).where(LoginSession.user_id == ids["watcher_id"])
                                      ).scalars().all()
        # The member's address, not nginx's (ELEARN_PROXY_COUNT=1 believes nginx's X-Forwarded-For).
        assert [s.ip for s in sessions] == [MEMBER_ADDRESS]
        db.session.remove()

    # Playback: the playlists and keys (the evidence) from the nodes, the segments from nginx.
    ps = str(uuid.uuid4())
    master_url = f"/learn/media/{ids['asset']}/master.m3u8?ps={ps}"
    status, _h, master = tab.get(master_url)
    assert status == 200
    variant = next(u for u in media_urls(master.decode(), master_url) if u.split("?")[0].endswith(".m3u8"))
    status, _h, playlist = tab.get(variant)
    assert status == 200
    for url in media_urls(playlist.decode(), variant):
        status, headers, _b = tab.get(url)
        assert status == 200
        assert ("content-security-policy" in headers) == ("/keys/" in url)  # the app's answers carry one

    # Progress reports, one per STEP_S: round robin sends them to each node in turn.
    path = f"/api/v1/lessons/{ids['lesson']}/progress"
    duration, at, seq, answers = ids["duration"], 0.0, 0, []
    while at < duration - 1e-9:
        seq += 1
        end = min(at + STEP_S, duration)
        time.sleep(STEP_S)
        status, _h, body = tab.post_json(path, {"playback_session": ps, "seq": seq, "intervals": [[at, end]],
                                                "position": end, "rate": 1.0, "visible": True})
        assert status == 200, body[:300]
        answers.append(json.loads(body))
        at = end
    assert {a["reason"] for a in answers} == {None}, "a report was credited less than it claimed"
    deadline = time.monotonic() + 5
    while sum(per_node := [len(node.access_lines(f"POST {path}")) for node in nodes]) < seq \
            and time.monotonic() < deadline:
        time.sleep(0.05)  # gunicorn logs a request once it has sent the answer
    assert all(per_node) and sum(per_node) == seq, per_node
    progress = _get_json(tab, path)
    assert progress["completed"] is True
    assert progress["watched_seconds"] == pytest.approx(duration, abs=1e-3)

    # Credits: what one node computes for her, from every node.
    with app.app_context():
        one_node = requirements.status(db.session.get(User, ids["watcher_id"])).as_dict()
        db.session.remove()
    figures = [_get_json(t, "/api/v1/me/credits") for t in (tab, tab, *direct)]
    for credits in figures:
        assert credits["total_hours"] == pytest.approx(one_node["total_hours"]) == pytest.approx(DECLARED_HOURS)
        assert credits["by_category"] == pytest.approx(one_node["by_category"])
        assert credits["theory_hours"] == pytest.approx(one_node["theory_hours"])
        assert [(e["kind"], e["hours"]) for e in credits["entries"]] == [("course", DECLARED_HOURS)]
    assert all(f == figures[0] for f in figures)

    # Search: the course's document is in PostgreSQL, which every node reads.
    query = "/api/v1/search?" + urllib.parse.urlencode({"q": "两个节点"})
    found = [_get_json(t, query) for t in (tab, tab, *direct)]
    assert ids["course"] in {hit["course_id"] for hit in found[0]["hits"]}
    assert all(f == found[0] for f in found)

    # Signing out on one node ends the session on every node.
    tab.csrf = _CSRF_META.search(tab.get("/")[2].decode()).group(1)
    status, _h, _b = tab.request("POST", "/auth/logout", urllib.parse.urlencode({"csrf_token": tab.csrf}).encode(),
                                 {"Content-Type": "application/x-www-form-urlencoded"})
    assert status in (302, 303)
    for other in direct:
        assert other.get("/api/v1/me/credits")[0] == 401
        other.reset()
    tab.reset()


def test_the_nodes_count_refused_sign_ins_together_in_redis(site):
    _stack, _app, nodes, _nginx, ids = site
    allowed = int(policy.LOGIN_LIMIT_PER_NAME.split(" per minute")[0])
    tabs = []
    for node in nodes:
        tab = Direct(node.port)
        tab.csrf = _CSRF_META.search(tab.get("/auth/login")[2].decode()).group(1)
        tabs.append(tab)

    def attempt(tab: Direct, password: str) -> int:
        form = {"username": ids["guesser"], "password": password, "csrf_token": tab.csrf}
        return tab.request("POST", "/auth/login", urllib.parse.urlencode(form).encode(),
                           {"Content-Type": "application/x-www-form-urlencoded"})[0]

    for i in range(allowed):
        assert attempt(tabs[i % 2], "wrong-guess1") == 401
    # Half the attempts went to each node: counted in each process's memory neither would refuse yet.
    assert attempt(tabs[0], seed.PASSWORD) == 429
    assert attempt(tabs[1], seed.PASSWORD) == 429
    for tab in tabs:
        tab.reset()


def test_a_node_going_down_is_passed_over(site):
    """Last in this module: it stops a node. nginx sends what that node would have had to the other one
    (a request refused at connect was never sent, so even a sign-in is passed on), and nothing is lost."""
    _stack, _app, nodes, nginx, ids = site
    stop(nodes[1].proc)
    tab = Member(nginx.port)
    tab.login(ids["watcher"], seed.PASSWORD)  # GET, POST, GET: at least one of them meant for the stopped node
    for _ in range(4):
        assert _get_json(tab, "/api/v1/me/credits")["total_hours"] == pytest.approx(DECLARED_HOURS)
    tab.reset()
    assert "connect() failed" in (nginx.workdir / "error.log").read_text(encoding="utf-8")
