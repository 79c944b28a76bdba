"""Watch time, honestly counted: segment evidence, the wall-clock budget, idempotence, devices, completion."""
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from elearn.errors import ServiceError
from elearn.extensions import db
from elearn.http.errors import status_for
from elearn.ledger import services as ledger
from elearn.ledger.models import StudyCredit
from elearn.policy import POLICY
from elearn.study import services as study
from elearn.study.models import PlaybackSession, SegmentDelivery
from tests.study.helpers import at, deliver, report

A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"


@pytest.fixture
def s(make_org, make_user, make_course, make_lesson):
    org = make_org(sector="rural")
    member = make_user(org=org)
    course = make_course(category="political_theory", theory=True)
    lesson = make_lesson(course=course, duration=90)
    return SimpleNamespace(member=member, course=course, lesson=lesson, org=org)


def credits(user):
    return list(db.session.execute(select(StudyCredit).where(StudyCredit.user_id == user.id)).scalars())


def test_honest_watching_completes_once_with_lesson_hours(s):
    deliver(s.member, s.lesson, A)
    for i, t in enumerate(range(15, 91, 15)):
        r = report(s.member, s.lesson, A, i, [(t - 15, t)], when=t)
        assert r.accepted and r.credited_seconds == pytest.approx(15)
    assert r.watched_seconds == pytest.approx(90) and r.completed and r.coverage == pytest.approx(1)
    rows = credits(s.member)
    assert len(rows) == 1
    row = rows[0]
    assert (row.kind, row.source_kind, row.source_id) == ("lesson", "lesson", s.lesson.id)
    assert row.hours == ledger.hours_for_seconds(90)
    assert row.innovative_theory and row.category == "political_theory" and row.organisation_id == s.org.id
    # Watching again credits nothing more.
    report(s.member, s.lesson, A, 99, [(0, 15)], when=200)
    assert len(credits(s.member)) == 1


def test_completion_threshold(s):
    deliver(s.member, s.lesson, A)
    below = POLICY.completion_coverage * 90 - 1
    r = report(s.member, s.lesson, A, 0, [(0, below)], when=below)
    assert not r.completed and credits(s.member) == []
    r = report(s.member, s.lesson, A, 1, [(below, below + 1)], when=below + 1)
    assert r.completed and len(credits(s.member)) == 1


def test_reports_without_delivered_segments_earn_nothing(s):
    r = report(s.member, s.lesson, A, 0, [(0, 15)], when=15)
    assert r.accepted and r.credited_seconds == 0 and r.watched_seconds == 0


def test_credit_only_within_delivered_segments(s):
    deliver(s.member, s.lesson, A, upto=30)  # segments 0..4 → media 0..30
    r = report(s.member, s.lesson, A, 0, [(20, 45)], when=30)
    assert r.watched_seconds == pytest.approx(10)


def test_segments_delivered_to_another_session_do_not_count(s):
    deliver(s.member, s.lesson, B)
    r = report(s.member, s.lesson, A, 0, [(0, 15)], when=15)
    assert r.watched_seconds == 0


def test_seeking_ahead_is_capped_by_wall_clock(s):
    deliver(s.member, s.lesson, A)
    rate = 2.0
    r = report(s.member, s.lesson, A, 0, [(0, 90)], when=10)
    assert r.watched_seconds == pytest.approx(10 * rate + POLICY.report_allowance_s)
    assert r.reason == "budget"


def test_a_flood_of_reports_cannot_multiply_the_allowance(s):
    deliver(s.member, s.lesson, A)
    for seq in range(30):
        report(s.member, s.lesson, A, seq, [(0, 90)], when=seq * 0.01)
    r = study.lesson_progress(s.member, s.lesson)
    assert r.watched_seconds <= 0.3 * 2 + POLICY.report_allowance_s + 1e-6


def test_max_rate_setting_is_used(app, s):
    app.config["ELEARN_MAX_PLAYBACK_RATE"] = 1.0
    deliver(s.member, s.lesson, A)
    r = report(s.member, s.lesson, A, 0, [(0, 90)], when=20)
    assert r.watched_seconds == pytest.approx(20 + POLICY.report_allowance_s)
    r = report(s.member, s.lesson, A, 1, [(30, 45)], when=35, rate=1.5)
    assert r.credited_seconds == 0 and r.reason == "rate"


def test_replayed_and_out_of_order_reports_change_nothing(s):
    deliver(s.member, s.lesson, A)
    first = report(s.member, s.lesson, A, 5, [(0, 15)], when=15)
    again = report(s.member, s.lesson, A, 5, [(15, 30)], when=30)
    older = report(s.member, s.lesson, A, 4, [(30, 45)], when=45)
    assert first.accepted and not again.accepted and not older.accepted
    assert again.reason == "duplicate"
    assert study.lesson_progress(s.member, s.lesson).watched_seconds == pytest.approx(15)


def test_hidden_page_credits_nothing(s):
    deliver(s.member, s.lesson, A)
    r = report(s.member, s.lesson, A, 0, [(0, 15)], when=15, visible=False)
    assert r.accepted and r.watched_seconds == 0 and r.reason == "hidden"


def test_two_devices_same_content_do_not_double_count(s):
    deliver(s.member, s.lesson, A)
    deliver(s.member, s.lesson, B)
    report(s.member, s.lesson, A, 0, [(0, 15)], when=15)
    r = report(s.member, s.lesson, B, 0, [(0, 15)], when=15.5)
    assert r.watched_seconds == pytest.approx(15)


def test_two_devices_share_one_wall_clock_budget(s):
    """Two devices playing different parts at once cannot earn faster than one device at max rate."""
    deliver(s.member, s.lesson, A)
    deliver(s.member, s.lesson, B)
    report(s.member, s.lesson, A, 0, [(0, 30)], when=15)  # 2× on device A
    r = report(s.member, s.lesson, B, 0, [(45, 75)], when=15.1)  # 2× on device B, same 15 s
    assert r.watched_seconds <= 15.1 * 2 + POLICY.report_allowance_s + 1e-6


def test_session_of_another_member_or_lesson_is_refused(s, make_user, make_lesson):
    deliver(s.member, s.lesson, A)
    other = make_user(org=s.org)
    with pytest.raises(ServiceError) as err:
        report(other, s.lesson, A, 0, [(0, 15)], when=15)
    assert status_for(err.value) == 409
    second = make_lesson(course=s.course, duration=60)
    with pytest.raises(ServiceError):
        report(s.member, second, A, 0, [(0, 15)], when=15)
    # Segments fetched by another member with my session id are not recorded for me.
    assert study.record_segment_delivery(other, s.lesson.asset, "720p", 99, 0, 6, A) is False


def test_segment_delivery_is_idempotent(s):
    for _ in range(3):
        assert study.record_segment_delivery(s.member, s.lesson.asset, "720p", 0, 0, 6, A, now=at(0))
    study.record_segment_delivery(s.member, s.lesson.asset, "480p", 0, 0, 6, A, now=at(1))  # rendition switch
    n = db.session.execute(select(func.count()).select_from(SegmentDelivery)).scalar_one()
    assert n == 1
    assert study.record_segment_delivery(s.member, s.lesson.asset, "720p", 1, 6, 12, None) is False
    assert study.record_segment_delivery(s.member, s.lesson.asset, "720p", 1, 6, 12, "bad id!") is False
    assert db.session.get(PlaybackSession, A).user_id == s.member.id


def test_resume_position_across_devices(s):
    deliver(s.member, s.lesson, A)
    report(s.member, s.lesson, A, 0, [(0, 15)], when=15, position=15)
    report(s.member, s.lesson, B, 0, [], when=40, position=42.5)
    assert study.lesson_progress(s.member, s.lesson).position == 42.5


def test_declared_hours_credit_the_course_when_every_lesson_is_complete(make_org, make_user, make_course,
                                                                        make_lesson):
    member = make_user(org=make_org())
    course = make_course(declared_hours=3)
    one = make_lesson(course=course, duration=30)
    two = make_lesson(course=course, duration=30, position=1)
    make_lesson(course=course)  # no media yet: not required
    deliver(member, one, A)
    report(member, one, A, 0, [(0, 30)], when=30)
    assert credits(member) == []
    deliver(member, two, B, when=100)
    report(member, two, B, 0, [(0, 30)], when=130)
    rows = credits(member)
    assert [(r.kind, r.source_id, r.hours) for r in rows] == [("course", course.id, 3.0)]


def test_lesson_without_media_is_not_reportable(make_lesson, make_user):
    lesson = make_lesson()
    with pytest.raises(ServiceError) as err:
        report(make_user(), lesson, A, 0, [(0, 1)], when=1)
    assert status_for(err.value) == 409


@pytest.mark.parametrize("data, message", [
    ([], "JSON"),
    ({"playback_session": 123}, "playback_session"),
    ({"playback_session": "short"}, "playback_session"),
    ({"seq": -1}, "seq"),
    ({"seq": True}, "seq"),
    ({"seq": 1.5}, "seq"),
    ({"intervals": "0-15"}, "intervals"),
    ({"intervals": [[0, 1, 2]]}, "intervals"),
    ({"intervals": [[5, 1]]}, "intervals"),
    ({"intervals": [[-1, 1]]}, "intervals"),
    ({"intervals": [["0", 1]]}, "intervals"),
    ({"intervals": [[0, 1]] * 201}, "intervals"),
    ({"intervals": [[0, 4000]]}, ""),
    ({"rate": 0}, "rate"),
    ({"rate": 100}, "rate"),
    ({"position": -3}, "position"),
    ({"visible": "yes"}, "visible"),
    ({"cheat": 1}, "cheat"),
])
def test_report_validation(data, message):
    good = {"playback_session": A, "seq": 0, "intervals": [[0, 1]], "position": 1, "rate": 1, "visible": True}
    if isinstance(data, dict):
        good.update(data)
        data = good
    with pytest.raises(ServiceError) as err:
        study.parse_lesson_report(data)
    assert status_for(err.value) == 400 and message in err.value.message


def test_missing_field_is_named():
    with pytest.raises(ServiceError) as err:
        study.parse_lesson_report({"playback_session": A, "seq": 0})
    assert "intervals" in err.value.message
