"""The heartbeat fast path (elearn.study.heartbeat) and batched reports, through the API a player uses: the
same answers as the full path, the per-process caches bounded by HEARTBEAT.cache_s, batches never worth more
than their intervals one by one."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from elearn import clock
from elearn.auth import tokens
from elearn.courses.models import Series
from elearn.extensions import db
from elearn.policy import HEARTBEAT, POLICY
from elearn.study import heartbeat
from elearn.study import services as study
from elearn.study.models import ReportRefusal

SID = "fast-path-session-0001"


@pytest.fixture
def s(make_org, make_user, make_course, make_lesson, publish, site_clock):
    org = make_org(sector="rural")
    member = make_user(org=org)
    course = make_course()
    lesson = make_lesson(course=course, duration=600)  # milestones at 150 s and on: the reports stay below
    publish([course], sectors=["rural"])
    past = clock.now_utc() - timedelta(minutes=10)
    for i in range(20):
        study.record_segment_delivery(member, lesson.asset, "720p", i, i * 6, i * 6 + 6, SID, now=past)
    return {"member": member, "lesson": lesson, "course": course, "url": f"/api/v1/lessons/{lesson.id}/progress",
            "clock": site_clock}


def body(seq, intervals, sid=SID, **kw):
    return {"playback_session": sid, "seq": seq, "intervals": [list(p) for p in intervals],
            "position": intervals[-1][1] if intervals else 0, "rate": 1.0, "visible": True, **kw}


class Paths:
    """Which way each report went: the full path (ORM, the generic auth hook) or the fast one."""

    def __init__(self, monkeypatch):
        self.full = 0
        self.token_lookups = 0
        real_full, real_token = study._apply_lesson_report, tokens.token_for

        def full(*args):
            self.full += 1
            return real_full(*args)

        def token_for(value):
            self.token_lookups += 1
            return real_token(value)

        monkeypatch.setattr(study, "_apply_lesson_report", full)
        monkeypatch.setattr(tokens, "token_for", token_for)


def test_a_steady_report_takes_the_fast_path_and_answers_like_the_full_one(client, s, monkeypatch):
    paths = Paths(monkeypatch)
    headers = {"Authorization": f"Bearer {tokens.issue(s['member'])}"}
    first = client.post(s["url"], json=body(0, [(0, 10)]), headers=headers)
    assert first.status_code == 200 and paths.full == 1 and paths.token_lookups == 1  # registers the clock
    s["clock"].advance(10)
    r = client.post(s["url"], json=body(1, [(10, 20)]), headers=headers)
    assert r.status_code == 200 and paths.full == 1 and paths.token_lookups == 1  # neither ran again
    assert r.get_json() == {"lesson_id": s["lesson"].id, "accepted": True, "credited_seconds": 10.0,
                            "watched_seconds": 20.0, "duration_seconds": 600.0, "coverage": 0.0333,
                            "position": 20.0, "completed": False, "reason": None, "hours_credited": 0.0,
                            "attention": None}
    assert r.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in r.headers
    # A replay is the full path's: refused and counted, as ever.
    again = client.post(s["url"], json=body(1, [(10, 20)]), headers=headers)
    assert again.get_json()["reason"] == "duplicate" and paths.full == 2
    assert study.lesson_progress(s["member"], s["lesson"]).watched_seconds == 20


def test_the_fast_path_keeps_the_members_clock(client, s, monkeypatch):
    """More media than the time since allows (× the maximum rate, plus the allowance) is cut short: the fast
    path hands such a report to the full path, which credits what the clock allows and says why."""
    paths = Paths(monkeypatch)
    headers = {"Authorization": f"Bearer {tokens.issue(s['member'])}"}
    client.post(s["url"], json=body(0, [(0, 5)]), headers=headers)
    s["clock"].advance(10)  # 10 s: at most 2 × 10 s (plus what is left of the allowance)
    r = client.post(s["url"], json=body(1, [(5, 60)]), headers=headers).get_json()
    assert r["reason"] == "budget" and r["credited_seconds"] < 26 and paths.full == 2


def test_the_fast_path_answers_only_what_the_generic_hooks_would_let_through(client, s, monkeypatch):
    """It runs before the input guard, the CSRF check and the cookie-session gates: a report with a cookie
    (a browser session has rules of its own) or a query string goes their way, and a control character in the
    body meets the guard's refusal, crediting nothing."""
    paths = Paths(monkeypatch)
    headers = {"Authorization": f"Bearer {tokens.issue(s['member'])}"}
    assert client.post(s["url"], json=body(0, [(0, 10)]), headers=headers).status_code == 200
    assert paths.token_lookups == 1  # the route's auth hook
    s["clock"].advance(10)
    client.set_cookie("elearn_locale", "zh_CN")
    r = client.post(s["url"], json=body(1, [(10, 15)]), headers=headers)
    assert r.status_code == 200 and r.get_json()["credited_seconds"] == 5 and paths.token_lookups == 2
    client.delete_cookie("elearn_locale")
    s["clock"].advance(5)
    r = client.post(s["url"] + "?via=app", json=body(2, [(15, 20)]), headers=headers)
    assert r.status_code == 200 and r.get_json()["credited_seconds"] == 5 and paths.token_lookups == 3
    r = client.post(s["url"], json=body(3, [(20, 25)], sid=SID[:-1] + "\x01"), headers=headers)
    assert r.status_code == 400 and "控制字符" in r.get_json()["error"]["message"]
    assert paths.token_lookups == 3  # refused before any auth
    s["clock"].advance(5)
    r = client.post(s["url"], json=body(3, [(20, 25)]), headers=headers)
    assert r.status_code == 200 and r.get_json()["watched_seconds"] == 25
    assert paths.token_lookups == 3  # the fast path


def test_a_failure_on_the_fast_path_is_its_own_error_and_the_next_report_is_credited(client, s, monkeypatch,
                                                                                      caplog):
    """A database error in the lean path's writes reaches the request as itself (not hidden behind the closed
    connection's), writes nothing, and the thread's next report gets a fresh connection."""
    headers = {"Authorization": f"Bearer {tokens.issue(s['member'])}"}
    assert client.post(s["url"], json=body(0, [(0, 10)]), headers=headers).status_code == 200
    real_write = study._lean_write

    def failing(cursor, *args):
        cursor.execute("SELECT no_such_column FROM playback_session")
        return real_write(cursor, *args)

    monkeypatch.setattr(study, "_lean_write", failing)
    s["clock"].advance(10)
    assert client.post(s["url"], json=body(1, [(10, 20)]), headers=headers).status_code == 500
    # The error the request failed with, as the traceback's last exception line names it (the column, on both
    # databases), and no later one about a closed connection.
    assert "no_such_column" in caplog.text.rpartition("Traceback")[2] and "closed" not in caplog.text
    monkeypatch.setattr(study, "_lean_write", real_write)
    db.session.rollback()
    assert study.lesson_progress(s["member"], s["lesson"]).watched_seconds == 10
    r = client.post(s["url"], json=body(1, [(10, 20)]), headers=headers)
    assert r.status_code == 200 and r.get_json()["watched_seconds"] == 20


def test_a_revoked_token_stops_within_the_cache_life(client, s, monkeypatch):
    token = tokens.issue(s["member"])
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post(s["url"], json=body(0, [(0, 10)]), headers=headers).status_code == 200
    s["clock"].advance(5)
    assert client.post(s["url"], json=body(1, [(10, 15)]), headers=headers).status_code == 200  # cached now
    row = tokens.token_for(token)
    tokens.revoke(s["member"], row.id)
    s["clock"].advance(HEARTBEAT.cache_s - 10)
    assert client.post(s["url"], json=body(2, [(15, 20)]), headers=headers).status_code == 200  # the bound
    s["clock"].advance(10)
    r = client.post(s["url"], json=body(3, [(20, 25)]), headers=headers)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"


def test_an_unpublished_course_stops_within_the_cache_life(client, s):
    headers = {"Authorization": f"Bearer {tokens.issue(s['member'])}"}
    assert client.post(s["url"], json=body(0, [(0, 10)]), headers=headers).status_code == 200
    s["clock"].advance(5)
    assert client.post(s["url"], json=body(1, [(10, 15)]), headers=headers).status_code == 200
    for series in db.session.execute(select(Series)).scalars():
        series.published = False
    db.session.commit()
    s["clock"].advance(HEARTBEAT.cache_s - 10)
    assert client.post(s["url"], json=body(2, [(15, 20)]), headers=headers).status_code == 200  # the bound
    s["clock"].advance(10)
    assert client.post(s["url"], json=body(3, [(20, 25)]), headers=headers).status_code == 404


def test_a_token_without_the_study_scope_is_refused(client, s):
    headers = {"Authorization": f"Bearer {tokens.issue(s['member'], scopes=['read'])}"}
    client.post(s["url"], json=body(0, [(0, 10)]), headers=headers)
    s["clock"].advance(10)
    r = client.post(s["url"], json=body(1, [(10, 20)]), headers=headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "insufficient_scope"
    assert study.lesson_progress(s["member"], s["lesson"]).watched_seconds == 0


def test_a_batch_credits_what_its_intervals_one_by_one_would_and_never_more(client, s, make_user):
    """A 30-second report carrying what was played in stretches (seeks between them) credits the same as the
    stretches sent one by one; overlapping or repeated intervals in one batch count once."""
    other = make_user(org=s["member"].organisation)
    other_sid = "fast-path-session-0002"
    past = clock.now_utc() - timedelta(minutes=10)
    for i in range(20):
        study.record_segment_delivery(other, s["lesson"].asset, "720p", i, i * 6, i * 6 + 6, other_sid, now=past)
    batch_headers = {"Authorization": f"Bearer {tokens.issue(s['member'])}"}
    single_headers = {"Authorization": f"Bearer {tokens.issue(other)}"}
    stretches = [(0, 8), (20, 30), (25, 35), (50, 60), (50, 60)]
    singles = []
    for i, stretch in enumerate(stretches):  # one report every 6 s, as they were played
        s["clock"].advance(6)
        singles.append(client.post(s["url"], json=body(i, [stretch], sid=other_sid), headers=single_headers).get_json())
    batch = client.post(s["url"], json=body(0, stretches), headers=batch_headers).get_json()  # all 30 s at once
    assert batch["accepted"] and batch["reason"] is None, batch
    assert all(r["accepted"] and r["reason"] is None for r in singles), singles
    assert batch["credited_seconds"] == pytest.approx(sum(r["credited_seconds"] for r in singles)) == 33
    assert batch["watched_seconds"] == singles[-1]["watched_seconds"] == 33
    # And never more: the same batch again (a new report number) adds nothing; sent early, the clock cuts it.
    again = client.post(s["url"], json=body(1, stretches), headers=batch_headers).get_json()
    assert again["credited_seconds"] == 0 and again["watched_seconds"] == 33
    third = make_user(org=s["member"].organisation)
    third_sid = "fast-path-session-0003"
    study.record_segment_delivery(third, s["lesson"].asset, "720p", 0, 0, 6, third_sid, now=clock.now_utc())
    s["clock"].advance(2)
    early = client.post(s["url"], json=body(0, [(0, 6)], sid=third_sid),
                        headers={"Authorization": f"Bearer {tokens.issue(third)}"}).get_json()
    assert early["credited_seconds"] <= 2 * 2.0 + POLICY.report_allowance_s and early["reason"] in ("early", "budget")


@pytest.mark.parametrize("intervals", [
    [[i, i + 0.5] for i in range(POLICY.report_max_intervals + 1)],  # more intervals than a report may carry
    [[0, POLICY.report_max_span_s + 1]],  # more playback than a report may claim
    [[0, 10], [0, 10, 20]],  # not a pair
    [[10, 5]],  # backwards
])
def test_a_malformed_or_oversized_batch_is_a_400_and_changes_nothing(client, s, intervals):
    headers = {"Authorization": f"Bearer {tokens.issue(s['member'])}"}
    client.post(s["url"], json=body(0, [(0, 10)]), headers=headers)
    s["clock"].advance(30)
    r = client.post(s["url"], json={**body(1, [(10, 20)]), "intervals": intervals}, headers=headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_report"
    assert study.lesson_progress(s["member"], s["lesson"]).watched_seconds == 10
    assert db.session.execute(select(ReportRefusal.count).where(
        ReportRefusal.user_id == s["member"].id, ReportRefusal.reason == "malformed")).scalar_one() == 1


class TestLimit:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True}

    def test_the_fast_path_counts_towards_the_heartbeat_limit(self, client, s, monkeypatch):
        paths = Paths(monkeypatch)
        headers = {"Authorization": f"Bearer {tokens.issue(s['member'])}"}
        allowed = int(heartbeat.HEARTBEAT_LIMIT_PER_USER.split(" per ")[0])
        statuses = []
        for seq in range(allowed + 1):
            s["clock"].advance(0.2)
            statuses.append(client.post(s["url"], json=body(seq, [(seq * 0.1, seq * 0.1 + 0.1)]),
                                        headers=headers).status_code)
        assert statuses[:allowed] == [200] * allowed and paths.full == 1  # the first, then all fast
        assert statuses[allowed] == 429
