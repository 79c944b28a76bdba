"""Shared fixtures: app, db, client (injects CSRF tokens), runner, auth helper, factories."""
from __future__ import annotations

import atexit
import itertools
import os
import re
import shutil
import tempfile
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings
from jinja2 import BytecodeCache
from sqlalchemy import event
from werkzeug.routing import Rule

from elearn import clock, create_app
from elearn.extensions import db as _db

# Property tests check results, not speed: an example taking over hypothesis's 200 ms on a loaded CI machine
# (the two passes share 2 cores) must not fail the run.
hypothesis_settings.register_profile("elearn", deadline=None)
hypothesis_settings.load_profile("elearn")

PASSWORD = "Passw0rd-test"

# Every test builds its own app, and werkzeug compiles two URL builders for each of the app's ~250 rules by way of
# the ast module (~0.2 s an app). The builder's code depends only on the rule's parsed trace, its defaults and the
# flag, and is bound to its rule afterwards, so the suite compiles each one once per process.
_compile_builder = Rule._compile_builder
_builders: dict = {}


def _cached_compile_builder(self, append_unknown=True):
    key = (tuple(self._trace), tuple(sorted((k, repr(v)) for k, v in (self.defaults or {}).items())),
           tuple(sorted(self._converters)), append_unknown)
    if key not in _builders:
        _builders[key] = _compile_builder(self, append_unknown)
    return _builders[key]


Rule._compile_builder = _cached_compile_builder  # type: ignore[method-assign]

# argon2id at its full profile (64 MiB, 3 passes) costs 0.1–0.4 s a hash or a check, and the suite hashes and
# checks the same few test passwords many thousands of times (every make_user, every sign-in). The first hash of
# a password under a profile is real and reused after (salt included); a check that succeeded once is
# remembered; a failing check is always computed. What the code stores and how it checks are unchanged.
_argon2_hash, _argon2_verify = PasswordHasher.hash, PasswordHasher.verify
_hashes: dict = {}
_verified: set = set()


def _profile(hasher: PasswordHasher) -> tuple:
    return hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len, hasher.salt_len, hasher.type


def _reused_hash(self, password, *, salt=None):
    if salt is not None:
        return _argon2_hash(self, password, salt=salt)
    key = (_profile(self), password)
    if key not in _hashes:
        _hashes[key] = _argon2_hash(self, password)
    return _hashes[key]


def _remembered_verify(self, hash, password):
    key = (hash, password)
    if key not in _verified:
        _argon2_verify(self, hash, password)  # raises when it does not match
        _verified.add(key)
    return True


PasswordHasher.hash = _reused_hash  # type: ignore[method-assign]
PasswordHasher.verify = _remembered_verify  # type: ignore[method-assign]

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class CSRFClient(FlaskClient):
    """A test client that adds the form's CSRF token to POSTs, as a browser with the page open would."""

    _token: str | None = None

    def csrf_token(self) -> str:
        if self._token is None:
            page = self.get("/auth/login").get_data(as_text=True)
            self._token = _CSRF_META.search(page).group(1)
        return self._token

    def open(self, *args, **kwargs):
        # Each request gets its own app context (fresh ``g`` and DB session), as under a real server,
        # instead of sharing the one the test holds open.
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def post(self, *args, **kwargs):
        if kwargs.pop("csrf", True) and "json" not in kwargs:
            data = dict(kwargs.get("data") or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        return super().post(*args, **kwargs)


def pytest_collection_modifyitems(config, items):
    on_postgres = os.environ.get("DATABASE_URL_TEST", "").startswith("postgresql")
    for item in items:
        if on_postgres:
            item.add_marker(pytest.mark.postgres)
        # Everything under tests/browser drives Chromium, whether or not the module says so.
        if f"{os.sep}browser{os.sep}" in str(item.path):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def app_config():
    """Config of the test's app beyond the testing defaults; a test module overrides this fixture."""
    return {}


@pytest.fixture
def app(tmp_path, app_config):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), **app_config})
    app.test_client_class = CSRFClient
    app.jinja_env.bytecode_cache = _TEMPLATE_CODE
    with app.app_context():
        _fresh_schema()
        yield app
        _db.session.remove()
        _empty_schema(tmp_path)
        _db.engine.dispose()


class _CompiledTemplates(BytecodeCache):
    """Each test's app has its own Jinja environment, which would compile every template it renders again
    (~0.1 s a template); the compiled code is shared by the suite's apps instead. Jinja checks each entry against
    the template's source, so an edited template is compiled afresh."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _CompiledTemplates()


# PostgreSQL: building the schema costs ~0.9 s a test (drop, pg_trgm, 80-odd tables and their indexes), emptying
# it ~0.05 s. So a test leaves the models' tables emptied (identities restarted) when the schema is still exactly
# the models' tables, and the next test starts on that; anything else a test left (a migration run, a table of its
# own) is dropped and built afresh. SQLite: each test has a fresh file, copied from one built once per process
# (create_all of every table and index costs ~0.3 s, a copy a millisecond); it is thrown away with the test's folder.
_pg_schema_pristine = False
_sqlite_schemas: dict[tuple, str] = {}
_SCHEMA_FOLDER = tempfile.mkdtemp(prefix="elearn-test-schema-")
atexit.register(shutil.rmtree, _SCHEMA_FOLDER, True)


def _sqlite_file() -> str | None:
    url = _db.engine.url
    if _db.engine.dialect.name != "sqlite" or not url.database or url.database == ":memory:" or url.query:
        return None
    return url.database


def _fresh_sqlite_file(path: str) -> bool:
    """The models' empty schema copied into ``path``; False when there is no copy to take yet."""
    built = _sqlite_schemas.get(tuple(sorted(_db.metadata.tables)))
    if built is None:
        return False
    _db.engine.dispose()
    for leftover in (path + "-wal", path + "-shm", path + "-journal"):
        if os.path.exists(leftover):
            os.remove(leftover)
    shutil.copyfile(built, path)
    return True


def _keep_sqlite_schema(path: str) -> None:
    _db.engine.dispose()  # closes the file, checkpointing its write-ahead log
    built = os.path.join(_SCHEMA_FOLDER, f"schema-{len(_sqlite_schemas)}.db")
    shutil.copyfile(path, built)
    _sqlite_schemas[tuple(sorted(_db.metadata.tables))] = built


def _public_tables(conn) -> set[str]:
    return {name for (name,) in conn.exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def _fresh_schema() -> None:
    global _pg_schema_pristine
    if _db.engine.dialect.name == "postgresql":
        if _pg_schema_pristine:
            with _db.engine.connect() as conn:
                if _public_tables(conn) == set(_db.metadata.tables):
                    return
        with _db.engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        _db.create_all()
        return
    path = _sqlite_file()
    if path is not None and _fresh_sqlite_file(path):
        return
    _db.drop_all()
    _db.create_all()
    if path is not None:
        _keep_sqlite_schema(path)


def _empty_schema(tmp_path) -> None:
    global _pg_schema_pristine
    if _db.engine.dialect.name != "postgresql":
        path = _sqlite_file()
        if path is None or not os.path.abspath(path).startswith(str(tmp_path)):
            _db.drop_all()  # a database outside the test's folder
        return
    _pg_schema_pristine = False
    with _db.engine.begin() as conn:
        tables = _public_tables(conn)
        if tables != set(_db.metadata.tables):
            return  # rebuilt by the next test
        conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in sorted(tables)) + " RESTART IDENTITY CASCADE")
    _pg_schema_pristine = True


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_seq = itertools.count(1)


@pytest.fixture
def make_org(db):
    from elearn.orgs import services as orgs

    def make(name=None, kind="committee", sector="rural", parent=None, county=False):
        return orgs.create(None, name=name or f"组织{next(_seq)}", kind=kind, sector=sector, parent=parent,
                           county_level_or_above=county)
    return make


@pytest.fixture
def make_user(db, make_org):
    from elearn.orgs import members as users

    def make(username=None, org=None, role="member", category="member", exempt=False, exempt_reason=None,
             name=None, joined_on=None):
        # Members of the tests have belonged since the cycle began unless a test says otherwise: the pace counts
        # from the joining day, and most tests judge a whole cycle's pace.
        from elearn.policy import POLICY

        username = username or f"user{next(_seq)}"
        return users.create(None, username=username, name=name or username, password=PASSWORD,
                            organisation=org or make_org(), role=role, category=category, exempt=exempt,
                            exempt_reason=exempt_reason, joined_on=joined_on or POLICY.cycle_start)
    return make


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username, password=PASSWORD, remember=False):
        data = {"username": username, "password": password}
        if remember:
            data["remember"] = "y"
        return self._client.post("/auth/login", data=data)

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def count_queries(db):
    """Count SQL statements executed inside a ``with count_queries() as n:`` block (n[0] afterwards)."""
    from contextlib import contextmanager

    @contextmanager
    def counter():
        n = [0]

        def before(*_args, **_kwargs):
            n[0] += 1
        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield n
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
    return counter


@pytest.fixture
def make_course(db, make_user):
    """A course by a lecturer; ``status="approved"`` for one ready to publish."""
    from elearn.courses.models import Course

    def make(title=None, lecturer=None, status="approved", category="political_theory", theory=True,
             declared_hours=None, description=""):
        course = Course(title=title or f"课程{next(_seq)}", lecturer=lecturer or make_user(role="lecturer"),
                        status=status, category=category, innovative_theory=theory,
                        declared_hours=declared_hours, description=description)
        db.session.add(course)
        db.session.commit()
        return course
    return make


@pytest.fixture
def make_lesson(db, make_course):
    """A lesson; with ``duration`` it gets a ready asset of that many seconds (no real media files)."""
    from elearn.courses.models import Lesson
    from elearn.media.models import MediaAsset

    def make(course=None, title=None, duration=None, position=0):
        course = course or make_course()
        lesson = Lesson(course=course, title=title or f"第{next(_seq)}讲", position=position)
        db.session.add(lesson)
        db.session.flush()
        if duration is not None:
            asset = MediaAsset(lesson_id=lesson.id, uploaded_by_id=course.lecturer_id, status="ready",
                               progress=1.0, duration_s=float(duration), output_key=None, segment_seconds=6.0)
            db.session.add(asset)
            db.session.flush()
            lesson.asset_id = asset.id
        db.session.commit()
        return lesson
    return make


@pytest.fixture
def publish(db, make_user):
    """Publish courses in a new series to targets: publish([c1], sectors=["rural"], orgs=[(org, True)],
    categories=["member"])."""

    from elearn.courses.models import Series, SeriesCourse, SeriesTarget

    def do(courses, sectors=(), orgs=(), categories=(), title=None, required=False, opens_on=None,
           due_on=None, published=True):
        series = Series(title=title or f"专题{next(_seq)}", required=required, opens_on=opens_on, due_on=due_on,
                        published=published, published_at=clock.now_utc() if published else None,
                        created_by_id=make_user(role="site_admin").id)
        for i, c in enumerate(courses):
            series.items.append(SeriesCourse(course=c, position=i))
        for s in sectors:
            series.targets.append(SeriesTarget(kind="sector", sector=s))
        for org, subtree in orgs:
            series.targets.append(SeriesTarget(kind="organisation", organisation_id=org.id, include_subtree=subtree))
        for cat in categories:
            series.targets.append(SeriesTarget(kind="category", member_category=cat))
        db.session.add(series)
        db.session.commit()
        return series
    return do


def pytest_terminal_summary(terminalreporter):
    """Name the folder of the browser screenshots in the log, so a person can go and look."""
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    folder = Path(os.environ.get("ELEARN_SCREENSHOT_DIR", root / "test-artifacts" / "screenshots"))
    shots = sorted(folder.glob("*.png")) if folder.is_dir() else []
    if shots:
        terminalreporter.write_line(f"browser screenshots ({len(shots)} files): {folder}")


@pytest.fixture
def enqueued(monkeypatch):
    """Record the tasks enqueued (handle, arguments) instead of running them."""
    from elearn.queue import Task

    calls: list[tuple[Task, tuple]] = []
    monkeypatch.setattr(Task, "enqueue", lambda self, *args: calls.append((self, args)))
    return calls


class SiteClock:
    """The site's clock held at a moment of the test's choosing, given in site time (Beijing by default)."""

    def __init__(self, utc):
        self.utc = utc

    def set_site(self, local):
        """Now is ``local`` (a naive date-time as people of the site read it)."""
        self.utc = clock.from_site_local(local)

    def advance(self, seconds):
        self.utc += timedelta(seconds=seconds)


@pytest.fixture
def site_clock(app, monkeypatch):
    """``clock.now_utc`` (and so every "now" and "today" of the app) under the test's control."""
    held = SiteClock(clock.now_utc())
    monkeypatch.setattr(clock, "now_utc", lambda: held.utc)
    return held


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a free loopback port, collecting what it receives: ``messages`` (parsed,
    ``email.message.EmailMessage``) and ``envelopes`` (sender, recipients). ``url`` is its ``ELEARN_SMTP_URL``;
    ``stop()`` and ``start()`` take it down and bring it back on the same port (delivery retries)."""

    def __init__(self, tls_context=None, credentials=None):
        import socket

        # With ``tls_context`` the server requires STARTTLS before anything else; with ``credentials`` (user,
        # password) it requires AUTH LOGIN/PLAIN with them.
        self._tls_context, self._credentials = tls_context, credentials

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.host = "127.0.0.1"
        self.url = f"smtp://{self.host}:{self.port}"
        self.messages: list = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._controller = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        from email import message_from_bytes
        from email.policy import default

        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content, policy=default))
        return "250 Message accepted for delivery"

    def start(self):
        from aiosmtpd.controller import Controller

        options = {}
        if self._tls_context is not None:
            options.update(tls_context=self._tls_context, require_starttls=True)
        if self._credentials is not None:
            options.update(authenticator=self._authenticate, auth_required=True,
                           auth_require_tls=self._tls_context is not None)
        self._controller = Controller(self, hostname=self.host, port=self.port, ready_timeout=10, **options)
        self._controller.start()

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        user, password = self._credentials
        given = (auth_data.login.decode(), auth_data.password.decode())
        return AuthResult(success=given == (user, password))

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server():
    """A running SMTP server collecting messages; point the app at it with ``ELEARN_SMTP_URL=smtp_server.url``
    (e.g. ``app_config`` returning ``{"ELEARN_SMTP_URL": smtp_server.url}``)."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
