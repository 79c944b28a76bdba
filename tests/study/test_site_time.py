"""A credit is dated the day the member studied, in site time: a lesson finished at 00:30 in Beijing is dated
that day, not the UTC day before (nor one finished at 23:30 the next day)."""
from datetime import date, datetime

import pytest

from elearn.ledger import services as ledger
from elearn.study import services as study

SID = "cccccccc-0000-4000-8000-000000000003"


@pytest.fixture
def lesson(make_lesson, make_course, publish, make_org):
    course = make_course(status="approved")
    publish([course], sectors=["rural"])
    return make_lesson(course=course, duration=60)


@pytest.mark.parametrize("now, day", [(datetime(2026, 5, 1, 23, 30), date(2026, 5, 1)),
                                      (datetime(2026, 5, 2, 0, 30), date(2026, 5, 2)),
                                      (datetime(2026, 5, 2, 7, 50), date(2026, 5, 2))])
def test_a_lesson_watched_around_midnight_is_credited_on_the_site_day(client, auth, make_user, make_org, lesson,
                                                                       site_clock, now, day):
    member = make_user("night", org=make_org(sector="rural"))
    site_clock.set_site(now)
    for i, start in enumerate(range(0, 60, 6)):
        study.record_segment_delivery(member, lesson.asset, "720p", i, start, start + 6, SID)
    auth.login("night")
    for seq, t in enumerate((20, 40, 60)):
        site_clock.advance(20)
        r = client.post(f"/api/v1/lessons/{lesson.id}/progress", headers={"X-CSRFToken": client.csrf_token()},
                        json={"playback_session": SID, "seq": seq, "intervals": [[t - 20, t]], "position": t,
                              "rate": 1.0, "visible": True})
        assert r.status_code == 200 and r.get_json()["accepted"], r.get_json()
    assert r.get_json()["completed"]
    (entry,) = ledger.entries(member)
    assert entry.credited_on == day
    assert client.get("/api/v1/me/credits").get_json()["entries"][0]["credited_on"] == day.isoformat()
