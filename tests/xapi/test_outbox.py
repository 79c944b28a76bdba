"""What goes into the outbox as the member plays (no LRS configured): "progressed" only at coarse milestones."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from elearn import clock
from elearn.extensions import db
from elearn.study import services as study
from elearn.xapi.models import XapiStatement
from tests.xapi.conftest import HOME

SID = "5d0c9a3e-7b61-4f2a-8c47-1e9b2f6a0d33"


@pytest.fixture
def app_config():
    return {"ELEARN_XAPI_HOMEPAGE": HOME}


def test_progressed_only_when_a_milestone_is_crossed(client, auth, make_org, make_user, make_course, make_lesson,
                                                     publish, site_clock):
    member = make_user(org=make_org(sector="rural"))
    course = make_course()
    lesson = make_lesson(course=course, duration=120)
    publish([course], sectors=["rural"])
    auth.login(member.username)
    when = clock.now_utc() - timedelta(minutes=10)
    for i in range(20):
        study.record_segment_delivery(member, lesson.asset, "720p", i, i * 6, i * 6 + 6, SID, now=when)
    headers = {"X-CSRFToken": client.csrf_token()}
    # Heartbeats every 10 s of media: 25 % is crossed at 30 s, 50 % at 60 s; the others cross nothing.
    for seq, end in enumerate((10, 20, 30, 40, 50, 60, 70)):
        r = client.post(f"/api/v1/lessons/{lesson.id}/progress", headers=headers,
                        json={"playback_session": SID, "seq": seq, "intervals": [[end - 10, end]], "position": end,
                              "rate": 1.0, "visible": True})
        assert r.status_code == 200 and r.get_json()["credited_seconds"] == 10, r.get_json()
        site_clock.advance(10)
    rows = list(db.session.execute(select(XapiStatement).order_by(XapiStatement.id)).scalars())
    assert [r.verb for r in rows] == ["launched", "progressed", "progressed"]
    marks = [r.statement["result"]["extensions"][f"{HOME}/xapi/extensions/progress"] for r in rows[1:]]
    assert marks == [0.25, 0.5]
    assert [r.statement["result"]["duration"] for r in rows[1:]] == ["PT30S", "PT1M"]
