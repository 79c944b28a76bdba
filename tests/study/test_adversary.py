"""Auto-study scripts against the crediting rules, through HTTP as such a script runs: segments fetched from
/learn/media, reports posted to the progress API, the site's clock moved by the test.

Whatever a script does, what a member is credited across all lessons and readings at once never exceeds the
time that passed × the maximum rate plus the allowance; and media is credited only where its evidence went
out whole, and only as far as it could have been played since."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from elearn.extensions import db
from elearn.ledger.models import StudyCredit
from elearn.media.models import MediaAsset
from elearn.policy import POLICY
from elearn.readings.models import CourseReading, Reading
from elearn.storage import get_storage
from elearn.study.models import ReportRefusal

SEG = 6.0
DURATION = 60.0
RATE = 2.0  # ELEARN_MAX_PLAYBACK_RATE's default
ALLOW = POLICY.report_allowance_s


def _media(lesson, lecturer) -> MediaAsset:
    """A ready asset with real HLS files: ten 6-second segments of one rendition."""
    n = int(DURATION / SEG)
    asset = MediaAsset(lesson_id=lesson.id, uploaded_by_id=lecturer.id, status="ready", progress=1.0,
                       duration_s=DURATION, segment_seconds=SEG)
    db.session.add(asset)
    db.session.flush()
    asset.output_key = f"media/{asset.id}"
    asset.renditions = [{"name": "360p", "playlist": "360p/index.m3u8", "width": 640, "height": 360,
                         "bandwidth": 800000, "codecs": "avc1.64001e,mp4a.40.2",
                         "segments": [[f"seg_{i:05d}.ts", i * SEG, (i + 1) * SEG] for i in range(n)]}]
    lesson.asset_id = asset.id
    db.session.commit()
    root = get_storage().path(asset.output_key) / "360p"
    root.mkdir(parents=True)
    playlist = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:6", "#EXT-X-PLAYLIST-TYPE:VOD"]
    for i in range(n):
        playlist += [f"#EXTINF:{SEG:.6f},", f"seg_{i:05d}.ts"]
        (root / f"seg_{i:05d}.ts").write_bytes(bytes([i]) * 4096)
    (root / "index.m3u8").write_text("\n".join([*playlist, "#EXT-X-ENDLIST"]) + "\n")
    return asset


@pytest.fixture
def world(make_org, make_user, make_course, make_lesson, publish, site_clock):
    org = make_org(sector="rural")
    lecturer = make_user(role="lecturer")
    course = make_course(lecturer=lecturer)
    lessons = []
    for i in range(3):
        lesson = make_lesson(course=course, title=f"第{i + 1}讲")
        _media(lesson, lecturer)
        lessons.append(lesson)
    readings = []
    for i in range(3):
        reading = Reading(title=f"材料{i + 1}", source_key=f"readings/x{i}.txt", filename=f"x{i}.txt",
                          chars=5000, estimated_minutes=10, uploaded_by_id=lecturer.id)
        db.session.add(reading)
        db.session.flush()
        db.session.add(CourseReading(course_id=course.id, reading_id=reading.id, position=i))
        readings.append(reading)
    db.session.commit()
    publish([course], sectors=["rural"])
    return {"member": make_user("member1", org=org), "other": make_user("member2", org=org),
            "lessons": lessons, "readings": readings, "course": course, "clock": site_clock}


class Script:
    """An auto-study script signed in as one member, speaking HTTP."""

    def __init__(self, client, auth, username):
        auth.login(username)
        self.client = client
        self.token = client.csrf_token()
        self.seq: dict[str, int] = {}

    def fetch(self, lesson, sid, segments=range(int(DURATION / SEG)), headers=None):
        for i in segments:
            r = self.client.get(f"/learn/media/{lesson.asset_id}/360p/seg_{i:05d}.ts?ps={sid}",
                                headers=headers or {})
            r.get_data()
            r.close()

    def report(self, lesson, sid, intervals, *, rate=1.0, visible=True, seq=None):
        seq = self.seq.get(sid, -1) + 1 if seq is None else seq
        self.seq[sid] = max(seq, self.seq.get(sid, -1))
        r = self.client.post(f"/api/v1/lessons/{lesson.id}/progress", headers={"X-CSRFToken": self.token},
                             json={"playback_session": sid, "seq": seq, "intervals": [list(p) for p in intervals],
                                   "position": intervals[-1][1] if intervals else 0, "rate": rate,
                                   "visible": visible})
        return r.status_code, r.get_json()

    def read(self, reading, sid, seconds, *, visible=True):
        seq = self.seq.get(sid, -1) + 1
        self.seq[sid] = seq
        r = self.client.post(f"/api/v1/readings/{reading.id}/progress", headers={"X-CSRFToken": self.token},
                             json={"playback_session": sid, "seq": seq, "active_seconds": seconds,
                                   "position": 0.5, "visible": visible})
        return r.status_code, r.get_json()

    def watched(self, lesson) -> float:
        return self.client.get(f"/api/v1/lessons/{lesson.id}/progress").get_json()["watched_seconds"]

    def read_seconds(self, reading) -> float:
        return self.client.get(f"/api/v1/readings/{reading.id}/progress").get_json()["active_seconds"]


def _sid(n) -> str:
    return f"5c1a0000-0000-4000-8000-{n:012d}"


@pytest.fixture
def script(client, auth, world):
    return Script(client, auth, "member1")


def test_many_lessons_at_once_earn_what_one_clock_allows(script, world):
    """'Multithread' mode: three lessons fetched and reported side by side, each as if played at 1×."""
    clock, lessons = world["clock"], world["lessons"]
    for k, lesson in enumerate(lessons):
        script.fetch(lesson, _sid(k))
    for step in range(1, 5):  # 4 × 15 s
        clock.advance(15)
        for k, lesson in enumerate(lessons):
            script.report(lesson, _sid(k), [((step - 1) * 15, step * 15)])
    total = sum(script.watched(lesson) for lesson in lessons)
    assert total <= 60 * RATE + ALLOW + 1e-6
    assert total >= 60  # what real time allows is still credited


def test_readings_and_lessons_share_the_clock(script, world):
    clock, lesson = world["clock"], world["lessons"][0]
    script.fetch(lesson, _sid(1))
    for _ in range(4):
        clock.advance(15)
    # 60 s passed; the lesson claims 60 s at 2× (all of the clock), then three readings claim 60 s each.
    script.report(lesson, _sid(1), [(0, 60)], rate=2.0)
    for k, reading in enumerate(world["readings"]):
        script.read(reading, _sid(10 + k), 60)
    media = script.watched(lesson)
    reading_s = sum(script.read_seconds(r) for r in world["readings"])
    assert media + reading_s * RATE <= 60 * RATE + ALLOW + 1e-6


def test_parallel_readings_earn_one_clock(script, world):
    clock = world["clock"]
    for _step in range(4):
        clock.advance(15)
        for k, reading in enumerate(world["readings"]):
            script.read(reading, _sid(20 + k), 15)
    total = sum(script.read_seconds(r) for r in world["readings"])
    # The first reports open the sessions (nothing has passed for them yet): 45 s of time after that.
    assert total <= 60 + ALLOW / RATE + 1e-6


def test_idle_then_burst_earns_nothing_beyond_the_burst(script, world):
    """A page left open ten minutes, then every segment fetched and the whole lesson claimed a second later."""
    clock, lesson = world["clock"], world["lessons"][0]
    script.fetch(lesson, _sid(2), segments=[0])  # the player opened: its first segment
    status, _first = script.report(lesson, _sid(2), [])
    clock.advance(600)
    script.fetch(lesson, _sid(2))
    clock.advance(1)
    status, r = script.report(lesson, _sid(2), [(0, DURATION)])
    assert status == 200 and not r["completed"]
    # Segment 0 arrived ten minutes ago, the rest a second ago: segment 0, and of the rest what one second
    # of playing (× the maximum rate) and the allowance cover.
    assert r["watched_seconds"] <= SEG + 1 * RATE + ALLOW + 1e-6
    assert r["reason"] == "early"


def test_claims_without_evidence_credit_nothing(script, world):
    clock, lesson = world["clock"], world["lessons"][0]
    clock.advance(120)
    status, r = script.report(lesson, _sid(3), [(0, 30)])
    assert status == 200 and r["credited_seconds"] == 0 and r["reason"] == "evidence"


def test_partial_and_conditional_fetches_are_not_evidence(script, world):
    clock, lesson = world["clock"], world["lessons"][0]
    script.fetch(lesson, _sid(4), headers={"Range": "bytes=0-0"})
    clock.advance(60)
    _status, r = script.report(lesson, _sid(4), [(0, 30)])
    assert r["credited_seconds"] == 0 and r["reason"] == "evidence"


def test_evidence_fetched_by_another_member_is_not_yours(client, auth, world):
    clock, lesson = world["clock"], world["lessons"][0]
    other = Script(client, auth, "member2")
    other.fetch(lesson, _sid(5))
    auth.logout()
    me = Script(client, auth, "member1")
    clock.advance(60)
    status, r = me.report(lesson, _sid(5), [(0, 30)])
    assert status == 409 and r["error"]["code"] == "session_mismatch"
    assert me.watched(lesson) == 0
    refusal = db.session.scalar(select(ReportRefusal).where(ReportRefusal.user_id == world["member"].id,
                                                            ReportRefusal.reason == "session_mismatch"))
    assert refusal is not None and refusal.count == 1


def test_replays_speedups_and_hidden_pages_change_nothing(script, world):
    clock, lesson = world["clock"], world["lessons"][0]
    script.fetch(lesson, _sid(6))
    clock.advance(30)
    _status, r = script.report(lesson, _sid(6), [(0, 15)])
    assert r["watched_seconds"] == 15
    clock.advance(30)
    for seq in (0, 0, -0):
        _status, r = script.report(lesson, _sid(6), [(15, 45)], seq=seq)
        assert r["accepted"] is False and r["reason"] == "duplicate"
    _status, r = script.report(lesson, _sid(6), [(15, 45)], rate=4.0)
    assert r["credited_seconds"] == 0 and r["reason"] == "rate"
    _status, r = script.report(lesson, _sid(6), [(15, 45)], visible=False)
    assert r["credited_seconds"] == 0 and r["reason"] == "hidden"
    assert script.watched(lesson) == 15
    counts = dict(db.session.execute(select(ReportRefusal.reason, ReportRefusal.count).where(
        ReportRefusal.user_id == world["member"].id)).all())
    assert counts == {"duplicate": 3, "rate": 1, "hidden": 1}


def test_honest_play_in_real_time_completes_and_credits_once(script, world):
    """The rules leave room for the real thing: a player fetching ahead and reporting every 15 s."""
    clock, lesson = world["clock"], world["lessons"][0]
    sid = _sid(7)
    script.fetch(lesson, sid, segments=range(3))
    for t in range(15, 61, 15):
        clock.advance(15)
        script.fetch(lesson, sid, segments=range(min(10, t // 6 + 3)))
        status, r = script.report(lesson, sid, [(t - 15, t)])
        assert status == 200 and r["credited_seconds"] == pytest.approx(15, abs=0.01), (t, r)
    assert r["completed"]
    credits = db.session.scalars(select(StudyCredit).where(StudyCredit.user_id == world["member"].id)).all()
    assert len(credits) == 1


def test_reports_racing_on_two_lessons_never_overdraw_the_clock(app, world):
    """Reports of two lessons at the same moment, from two threads (two web workers): one clock, updated
    atomically; together they get what one clock holds."""
    from elearn.study import services as study

    clock, lessons, member_id = world["clock"], world["lessons"][:2], world["member"].id
    with app.test_request_context():
        member = db.session.get(type(world["member"]), member_id)
        for k, lesson in enumerate(lessons):
            for i in range(10):
                study.record_segment_delivery(member, lesson.asset, "360p", i, i * SEG, (i + 1) * SEG, _sid(30 + k))
    clock.advance(30)
    lesson_ids = [lesson.id for lesson in lessons]  # read here: the threads must not touch this session
    user_cls, lesson_cls = type(world["member"]), type(lessons[0])
    barrier = threading.Barrier(2, timeout=30)
    errors = []

    def run(k):
        with app.app_context():
            try:
                user = db.session.get(user_cls, member_id)
                lesson = db.session.get(lesson_cls, lesson_ids[k])
                barrier.wait()
                report = study.parse_lesson_report({"playback_session": _sid(30 + k), "seq": 0,
                                                    "intervals": [[0, 60]], "position": 60, "rate": 2.0,
                                                    "visible": True})
                study.report_lesson_progress(user, lesson, report)
            except Exception as exc:  # surfaced below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads) and not errors, errors
    db.session.expire_all()
    with app.test_request_context():
        member = db.session.get(type(world["member"]), member_id)
        total = sum(study.lesson_progress(member, lesson).watched_seconds for lesson in lessons)
    assert total <= 30 * RATE + ALLOW + 1e-6


def test_the_org_admin_sees_refused_reports_on_the_member_page(client, auth, world, make_user):
    clock, lesson = world["clock"], world["lessons"][0]
    me = Script(client, auth, "member1")
    clock.advance(60)
    me.report(lesson, _sid(8), [(0, 30)])  # no evidence
    r = client.post(f"/api/v1/lessons/{lesson.id}/progress", headers={"X-CSRFToken": me.token},
                    json={"playback_session": _sid(8), "seq": 10**30})
    assert r.status_code == 400
    auth.logout()
    make_user("branchadmin", org=world["member"].organisation, role="org_admin")
    auth.login("branchadmin")
    page = client.get(f"/admin/members/{world['member'].id}").get_data(as_text=True)
    section = page.split('id="refusals"')[1].split("</section>")[0]
    assert "未下载对应的视频片段" in section and "格式错误的报告" in section


def test_attention_checks_stop_credit_until_answered(script, world, monkeypatch):
    """防挂机: on a course that asks for it, after a stretch of watched time the answer carries a prompt;
    reports credit nothing until the member answers it, from any device or new playback session; then only
    what is played after the answer counts. Off by default."""
    from elearn import policy

    monkeypatch.setattr(policy, "ATTENTION_CHECK_AFTER_S", (10.0, 10.0))
    clock, lesson = world["clock"], world["lessons"][0]
    sid, other = _sid(40), _sid(41)
    script.fetch(lesson, sid)
    clock.advance(12)
    _status, r = script.report(lesson, sid, [(0, 12)])
    assert r["attention"] is None  # the course does not ask for checks
    world["course"].attention_checks = True
    db.session.commit()
    clock.advance(12)
    _status, r = script.report(lesson, sid, [(12, 24)])
    assert r["credited_seconds"] == 12 and r["attention"] is None  # the next prompt is due at 24 + 10 s
    clock.advance(12)
    _status, r = script.report(lesson, sid, [(24, 36)])
    assert r["credited_seconds"] == 12 and r["attention"]
    token = r["attention"]
    clock.advance(12)
    _status, r = script.report(lesson, sid, [(36, 48)])
    assert r["credited_seconds"] == 0 and r["reason"] == "attention" and r["attention"] == token
    # A fresh playback session (another tab, a script starting over) is asked the same.
    script.fetch(lesson, other)
    clock.advance(12)
    _status, r = script.report(lesson, other, [(36, 48)])
    assert r["credited_seconds"] == 0 and r["attention"] == token
    url = f"/api/v1/lessons/{lesson.id}/attention"
    assert script.client.post(url, headers={"X-CSRFToken": script.token},
                              json={"token": "0" * 16}).status_code == 409
    monkeypatch.setattr(policy, "ATTENTION_CHECK_AFTER_S", (600.0, 600.0))  # the next one, much later
    answer = script.client.post(url, headers={"X-CSRFToken": script.token}, json={"token": token})
    assert answer.status_code == 200 and answer.get_json() == {"answered": True}
    # The time away is not claimable: right after the answer, the old evidence gives only the allowance.
    _status, r = script.report(lesson, sid, [(36, 60)])
    assert _status == 200 and r["credited_seconds"] <= ALLOW + 1e-6, r
    clock.advance(12)
    _status, r = script.report(lesson, sid, [(36, 60)])
    assert r["attention"] is None and script.watched(lesson) == 60
    count = db.session.scalar(select(ReportRefusal.count).where(ReportRefusal.user_id == world["member"].id,
                                                                ReportRefusal.reason == "attention"))
    assert count == 2


def test_attention_is_a_course_setting_in_the_studio(client, auth, make_user, make_course):
    lecturer = make_user("lect2", role="lecturer")
    course = make_course(lecturer=lecturer, status="draft", category="party_rules")
    auth.login("lect2")
    r = client.post(f"/studio/courses/{course.id}", data={
        "course-title": course.title, "course-category": "party_rules", "course-attention_checks": "y"})
    assert r.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(type(course), course.id).attention_checks is True
