"""Properties of the crediting rules over arbitrary report sequences (hypothesis)."""
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from elearn.courses.models import Lesson
from elearn.media.models import MediaAsset
from elearn.policy import POLICY
from elearn.study import services as study
from tests.study.helpers import deliver, report

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
