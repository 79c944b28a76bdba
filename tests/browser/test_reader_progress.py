"""The reader reports active reading time: the demo member opens a reading of a course published to them,
scrolls, and the first timed report reaches POST /api/v1/readings/<id>/progress and is answered 200."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import login, shoot

pytestmark = pytest.mark.browser

COURSE = "党章党规党纪专题教育"
PLAN = Path(__file__).resolve().parent.parent / "data" / "plan-excerpt.txt"

# Attach a reading to the demo course (the demo data has none), as a site admin, in the live instance.
SETUP = f"""
from sqlalchemy import select
from elearn import create_app
from elearn.extensions import db
from elearn.courses.models import Course
from elearn.orgs.models import User
from elearn.readings import services as readings
app = create_app()
with app.app_context():
    admin = db.session.execute(select(User).where(User.role == "site_admin")).scalars().first()
    course = db.session.execute(select(Course).where(Course.title == {COURSE!r})).scalar_one()
    with open({str(PLAN)!r}, "rb") as f:
        reading = readings.upload(admin, f.read(), "plan.txt", title="阅读计时测试", course=course)
    print(reading.id)
"""


def _is_report(response) -> bool:
    return response.request.method == "POST" and \
        re.search(r"/api/v1/readings/\d+/progress$", response.url) is not None


def test_reader_reports_active_reading_time(live_server, phone, screenshot_dir):
    base = live_server["url"]
    out = subprocess.run([sys.executable, "-c", SETUP], env=live_server["env"], capture_output=True, text=True,
                         check=True)
    reading_id = int(out.stdout.strip().splitlines()[-1])
    page = phone.new_page()
    # Report every 2 s instead of 15 s so the test stays short (the page takes the interval from data-*).
    page.route(re.compile(rf".*/readings/{reading_id}$"), lambda route: route.fulfill(
        response=(r := route.fetch()), body=r.text().replace('data-report-seconds="15"', 'data-report-seconds="2"')))
    login(page, base, "member")
    with page.expect_response(_is_report) as first:
        page.goto(f"{base}/readings/{reading_id}")
    assert first.value.status == 200 and first.value.json()["accepted"] is True
    assert page.locator("#reading-credit").is_visible()
    page.mouse.wheel(0, 600)
    page.evaluate("window.scrollBy(0, 400)")
    with page.expect_response(_is_report, timeout=15_000) as second:
        page.wait_for_timeout(500)
        page.evaluate("window.scrollBy(0, 300)")
    response = second.value
    sent = response.request.post_data_json
    assert response.status == 200, response.text()
    assert sent["seq"] >= 1 and sent["active_seconds"] > 0 and sent["visible"] is True
    assert 0 < sent["position"] <= 1 and re.fullmatch(r"[A-Za-z0-9-]{8,64}", sent["playback_session"])
    assert response.request.headers.get("x-csrftoken")
    body = response.json()
    assert body["accepted"] is True and body["credited_seconds"] > 0
    shoot(page, screenshot_dir, "reader-progress", "phone", full_page=False)
