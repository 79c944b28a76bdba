"""The heartbeat fast path: a bearer-token lesson report answered before the generic API machinery runs.

Profiled (cProfile, `benchmarks/bench_progress.py` data), a report cost ~12× a bare Flask route: the token
lookup loaded the token row and the member (decrypting their personal fields), the visibility check loaded the
lesson, course, organisation and memberships and ran the audience query, and the report itself read and wrote
five ORM objects with versioned flushes. None of the first two changes from one heartbeat to the next.

So, for ``POST /api/v1/lessons/<id>/progress`` with ``Authorization: Bearer …`` (the hook runs first of the
app's hooks, before the input guard, the CSRF check, the cookie-session gates, the auth hook and the view):

* it answers only a request those hooks would let through unchanged, and checks that itself: no query string,
  no cookie (a signed-in browser session has its own rules: an expired password, a half-signed-in second
  factor, CSRF), a bearer token, and a body the strict report schema accepts — no unknown field, the
  playback session a UUID, only numbers and booleans besides — which can hold neither a control character nor an
  oversized text (the input guard's rules); the path is the route's, an integer lesson id. Anything else falls
  through to the hooks in their usual order;

* the token is resolved with one Core query and kept per process for ``HEARTBEAT.cache_s`` (30 s): a revoked
  token, a deactivated member or a token whose scopes no longer include ``study`` is refused at most that long
  after the change, by every process;
* "this member may watch this lesson" (the catalogue's audience rules, run the usual way on a miss) is kept
  the same time: a course unpublished or a member moved out of its audience stops being credited within it.
  The lesson's asset, its status and duration and the course's attention-check flag are read live with the
  report's state (:func:`elearn.study.services.lean_lesson_report`), never cached;
* the report then takes the lean path of the study service: the same rules, two reads and at most four writes.

Everything else falls through — returns None — to the ordinary route, which answers exactly as before: no or
another kind of credentials, a cookie session (CSRF rules), an unknown, revoked or idle-for-long token (the
auth hook records its use every few minutes), a missing scope, a body that is not a valid report (400 and the
refusal counted), a lesson out of reach (404), the rate limit reached (the route's 429), and every report the
lean path hands back (first report, refusals, attention checks, completion, a concurrent update).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Response, current_app, g, request
from limits import parse
from pydantic import ValidationError
from sqlalchemy import text

from elearn import clock
from elearn.errors import NotFound
from elearn.extensions import db, limiter
from elearn.http.schemas import MAX_JSON_BYTES
from elearn.orgs.models import User
from elearn.policy import HEARTBEAT, HEARTBEAT_LIMIT_PER_USER
from elearn.study import services as study
from elearn.study.schemas import LessonReport

ENDPOINT = "study_api.report_lesson"
# The lesson heartbeat's per-member limit bucket, shared with the route's decorator (elearn.study.api).
LIMIT_SCOPE = "lesson_heartbeat"
_LIMIT = parse(HEARTBEAT_LIMIT_PER_USER)
# The auth domain's rules for a token (elearn.auth.tokens): its prefix, and its use recorded every few minutes.
_TOKEN_PREFIX = "elt_"
_TOUCH_INTERVAL = timedelta(minutes=5)
_TOKEN = text("""
SELECT t.user_id, t.scopes, t.last_used_at FROM api_token t JOIN user_account u ON u.id = t.user_id
WHERE t.token_hash = :digest AND t.revoked_at IS NULL AND u.active""")


@dataclass(frozen=True)
class Member:
    user_id: int
    scopes: frozenset[str]


class TimedCache:
    """A per-process map whose entries expire ``HEARTBEAT.cache_s`` after they were filled (site clock)."""

    def __init__(self) -> None:
        self._entries: dict[Any, tuple[datetime, Any]] = {}

    def get(self, key: Any, now: datetime) -> Any:
        found = self._entries.get(key)
        if found is None or found[0] <= now:
            return None
        return found[1]

    def put(self, key: Any, value: Any, now: datetime) -> None:
        if len(self._entries) >= HEARTBEAT.cache_entries:
            self._entries.clear()  # bounded memory; refilled by the next reports
        self._entries[key] = (now + timedelta(seconds=HEARTBEAT.cache_s), value)


@dataclass
class Caches:
    members: TimedCache  # token digest → Member
    lessons: TimedCache  # (user id, lesson id) → True: the member may watch the lesson


def _caches() -> Caches:
    return current_app.extensions["study_heartbeat"]


def _member(token: str, now: datetime) -> Member | None:
    if not token.startswith(_TOKEN_PREFIX):
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    caches = _caches()
    found = caches.members.get(digest, now)
    if found is not None:
        return found
    row = db.session.connection().execute(_TOKEN, {"digest": digest}).first()
    if row is None:
        return None  # unknown, revoked or of an inactive member: the auth hook's 401
    last_used = row.last_used_at
    if last_used is not None and not isinstance(last_used, datetime):
        last_used = datetime.fromisoformat(last_used)
    if last_used is None or now - last_used > _TOUCH_INTERVAL:
        return None  # the auth hook records the use (and this is cached from the next report on)
    member = Member(user_id=row.user_id, scopes=frozenset((row.scopes or "").split()))
    caches.members.put(digest, member, now)
    return member


def _may_watch(user_id: int, lesson_id: int, now: datetime) -> bool:
    caches = _caches()
    if caches.lessons.get((user_id, lesson_id), now):
        return True
    user = db.session.get(User, user_id)
    if user is None:
        return False
    try:
        study.get_lesson_for(user, lesson_id)
    except NotFound:
        return False  # the route's 404, never cached
    caches.lessons.put((user_id, lesson_id), True, now)
    return True


def fast_lesson_report() -> Response | None:
    """Before request: answer a bearer-token lesson heartbeat on the fast path, or None to let the route run."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup, not one per attribute
    if req.endpoint != ENDPOINT or req.method != "POST" or req.query_string:
        return None
    headers = req.headers
    if "Cookie" in headers:
        return None
    scheme, _sep, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    if req.content_length is not None and req.content_length > MAX_JSON_BYTES:
        return None
    mimetype = req.mimetype
    if not (mimetype == "application/json" or mimetype.endswith("+json")):
        return None
    now = clock.now_utc()
    member = _member(token.strip(), now)
    if member is None or "study" not in member.scopes:
        return None
    key = f"user:{member.user_id}"
    if limiter.enabled and not limiter.limiter.test(_LIMIT, key, LIMIT_SCOPE):
        return None
    raw = req.get_data(cache=True)
    try:
        report = LessonReport.model_validate_json(raw) if raw else None
    except (ValidationError, RecursionError):
        report = None
    lesson_id = (req.view_args or {}).get("lesson_id")
    if report is None or not isinstance(lesson_id, int) or not _may_watch(member.user_id, lesson_id, now):
        return None
    result = study.lean_lesson_report(member.user_id, lesson_id, report, now)
    if result is None:
        db.session.rollback()
        return None
    if limiter.enabled:
        limiter.limiter.hit(_LIMIT, key, LIMIT_SCOPE)
    g.api_token_auth = True
    return _json_response(result.as_dict())  # the LessonProgress payload (schemas), as the route answers it


# What ``jsonify`` writes for a payload of numbers, booleans and None (the app's JSON provider, not in debug
# mode: sorted keys, compact, ASCII, a final newline), without its per-call argument handling.
_ENCODE = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode


def _json_response(payload: dict) -> Response:
    return current_app.response_class(_ENCODE(payload) + "\n", mimetype="application/json")


def init_app(app: Flask | Any) -> None:
    """Per-process caches of this app, and the hook, first of the app's before-request functions."""
    app.extensions["study_heartbeat"] = Caches(members=TimedCache(), lessons=TimedCache())
    app.before_request_funcs.setdefault(None, []).insert(0, fast_lesson_report)
