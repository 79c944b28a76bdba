"""Properties of the crediting rules over arbitrary report sequences (hypothesis)."""
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from elearn.courses.models import Lesson
from elearn.extensions import db
from elearn.media.models import MediaAsset
from elearn.policy import POLICY
from elearn.study import services as study
from elearn.study.models import SegmentDelivery
from tests.study.helpers import at, deliver, report

SESSIONS = ["aaaaaaaa-1111", "bbbbbbbb-2222"]
DURATION = 120.0
_ids = count(1)

interval = st.tuples(st.floats(0, DURATION + 20), st.floats(0, 60)).map(lambda p: (p[0], p[0] + p[1]))
one_report = st.fixed_dictionaries({
    "session": st.sampled_from(SESSIONS),
    "seq": st.integers(0, 12),
    "gap": st.floats(0, 30),  # wall-clock seconds since the previous report
    "intervals": st.lists(interval, max_size=4),
    "visible": st.booleans(),
    "rate": st.sampled_from([1.0, 1.5, 2.0, 3.0]),
})
sequence = st.lists(one_report, min_size=1, max_size=12)
delivered_upto = st.sampled_from([None, 30.0, 60.0])

@pytest.fixture
def member(make_user):
    return make_user()


@pytest.fixture
def course(make_course, member):
    return make_course(lecturer=member)


SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _fresh_lesson(db, course):
    lesson = Lesson(course=course, title=f"L{next(_ids)}")
    db.session.add(lesson)
    db.session.flush()
    asset = MediaAsset(lesson_id=lesson.id, uploaded_by_id=course.lecturer_id, status="ready", progress=1.0,
                       duration_s=DURATION, segment_seconds=6.0)
    db.session.add(asset)
    db.session.flush()
    lesson.asset_id = asset.id
    db.session.commit()
    return lesson


def _play(member, lesson, reports, prefix):
    t = 0.0
    for r in reports:
        t += r["gap"]
        report(member, lesson, prefix + r["session"], r["seq"], r["intervals"], when=t, rate=r["rate"],
               visible=r["visible"])
    return t


@SETTINGS
@given(reports=sequence, upto=delivered_upto)
def test_credit_never_exceeds_duration_budget_or_evidence(db, member, course, reports, upto):
    lesson = _fresh_lesson(db, course)
    prefix = f"{lesson.id}-"
    for sid in SESSIONS:
        deliver(member, lesson, prefix + sid, upto=upto)
    elapsed = _play(member, lesson, reports, prefix)
    progress = study.lesson_progress(member, lesson)
    bound = min(DURATION if upto is None else upto, elapsed * 2.0 + POLICY.report_allowance_s)
    assert progress.watched_seconds <= bound + 1e-3


@SETTINGS
@given(reports=sequence)
def test_replaying_everything_changes_nothing(db, member, course, reports):
    lesson = _fresh_lesson(db, course)
    prefix = f"{lesson.id}-"
    for sid in SESSIONS:
        deliver(member, lesson, prefix + sid)
    t = _play(member, lesson, reports, prefix)
    before = study.lesson_progress(member, lesson)
    # The same reports again, later: every seq is already used, so nothing is accepted.
    for r in reports:
        t += 10
        again = report(member, lesson, prefix + r["session"], r["seq"], r["intervals"], when=t)
        assert again.accepted is False
    after = study.lesson_progress(member, lesson)
    assert after.watched_seconds == before.watched_seconds


def test_time_is_measured_from_the_session_start(db, make_user, make_course):
    """A session registered long ago with no reports still earns only by the rate since then."""
    member = make_user()
    lesson = _fresh_lesson(db, make_course(lecturer=member))
    deliver(member, lesson, "cccccccc-3333", when=0)
    r = report(member, lesson, "cccccccc-3333", 0, [(0, DURATION)], when=40)
    assert r.watched_seconds <= 40 * 2 + POLICY.report_allowance_s + 1e-6


# The lean path (elearn.study.services.lean_lesson_report) answers the common report from part of the
# session's evidence: the claimed segments by segment index, the other deliveries' credit only since a moment
# that can still bound the grant. Whatever the evidence's timing and however the segment length it assumes
# differs from the cuts, every report must come out exactly as the full path, which reads it all, applies it.
# Bursts of four consecutive segments each, the later ones fetched later.
burst_times = st.lists(st.sampled_from([0.0, 15.0, 40.0, 90.0, 200.0]), min_size=5, max_size=5).map(
    lambda times: [t for t in sorted(times) for _ in range(4)])
playing = st.lists(st.fixed_dictionaries({
    "gap": st.floats(0.5, 30),
    # None: on from where the last report ended; or a jump, often to where a burst of segments begins
    "start": st.one_of(st.none(), st.sampled_from([0.0, 30.0, 60.0, 90.0]), st.floats(0, DURATION)),
    "length": st.floats(0.01, 40),
}), min_size=2, max_size=10)
_TAKEN = {"lean": 0}


def _apply_all(member, lesson, sid, times, plays, *, lean: bool, monkeypatch):
    for i, when in enumerate(times):
        study.record_segment_delivery(member, lesson.asset, "720p", i, i * 6.0, i * 6.0 + 6.0, sid, now=at(when))
    real = study.lean_lesson_report

    def lean_or_not(*args):
        result = real(*args) if lean else None
        _TAKEN["lean"] += result is not None
        return result

    monkeypatch.setattr(study, "lean_lesson_report", lean_or_not)
    answers, t, position = [], 0.0, 0.0
    for seq, p in enumerate(plays):
        t += p["gap"]
        start = position if p["start"] is None else p["start"]
        position = start + p["length"]
        answer = report(member, lesson, sid, seq, [(start, position)], when=t).as_dict()
        answers.append({k: v for k, v in answer.items() if k != "lesson_id"})
    monkeypatch.undo()
    deliveries = db.session.execute(select(SegmentDelivery.segment_index, SegmentDelivery.credited_s).where(
        SegmentDelivery.session_id == sid).order_by(SegmentDelivery.segment_index)).all()
    return answers, [round(credited, 3) for _index, credited in deliveries]


def _on_both_paths(make_user, course, monkeypatch, times, plays, assumed=6.0):
    """:func:`_apply_all` for a new member on a new lesson (its asset's recorded segment length ``assumed``; the
    cuts stay at multiples of 6 s), with the lean path and then without it."""
    outcomes = []
    for lean in (True, False):
        lesson = _fresh_lesson(db, course)
        lesson.asset.segment_seconds = assumed
        db.session.commit()
        outcomes.append(_apply_all(make_user(), lesson, f"{lesson.id}-{int(lean)}-cccc-4444", times, plays,
                                   lean=lean, monkeypatch=monkeypatch))
    return outcomes


@SETTINGS
@given(times=burst_times, plays=playing, assumed=st.sampled_from([6.0, 4.0, 10.0]))
def test_the_lean_path_credits_exactly_what_the_full_path_does(db, make_user, course, monkeypatch, times, plays,
                                                                assumed):
    lean, full = _on_both_paths(make_user, course, monkeypatch, times, plays, assumed)
    assert lean[0] == full[0]  # the answers
    assert lean[1] == full[1]  # each delivery's credit


def test_the_lean_path_took_reports_in_the_comparison(db, make_user, course, monkeypatch):
    """The comparison above compares something: on evidence delivered in bursts, at the segment length the
    lean path assumes, steady playback is answered on the lean path after the first report, but for the three
    reports that cross a learning-record milestone (a quarter, half and three quarters of the video), which the
    full path records."""
    _TAKEN["lean"] = 0
    member = make_user()
    lesson = _fresh_lesson(db, course)
    times = [0.0] * 5 + [20.0] * 5 + [50.0] * 10  # each burst fetched ahead of the playback
    plays = [{"gap": 10.0, "start": None, "length": 9.0} for _ in range(10)]
    answers, deliveries = _apply_all(member, lesson, f"{lesson.id}-dddd-5555", times, plays, lean=True,
                                     monkeypatch=monkeypatch)
    assert [a["reason"] for a in answers] == [None] * 10, answers
    assert _TAKEN["lean"] == 9 - 3 and sum(deliveries) == pytest.approx(90.0)


def test_a_later_burst_bounds_the_lean_path_as_it_bounds_the_full_one(db, make_user, course, monkeypatch):
    """The deliveries the lean path sums must reach back far enough. The second half of the video arrives in
    one burst at 100 s; at 105 s its first two segments give 12 s (the member's clock has a minute in hand).
    At 107 s the burst's segments may give (107 − 100) × 2 + 5 − 12 = 7 s more, though the clock would allow
    9: a jump ahead to two other segments of that burst claiming 8 s is credited 7, on either path, and
    refused as early."""
    times = [0.0] * 10 + [100.0] * 10
    plays = [{"gap": 10.0, "start": None, "length": 10.0} for _ in range(6)] + [
        {"gap": 45.0, "start": 60.0, "length": 12.0}, {"gap": 2.0, "start": 96.0, "length": 8.0}]
    lean, full = _on_both_paths(make_user, course, monkeypatch, times, plays)
    assert lean == full
    last = lean[0][-1]
    assert last["reason"] == "early" and last["credited_seconds"] == pytest.approx(7.0)
