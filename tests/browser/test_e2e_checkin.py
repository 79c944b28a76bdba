"""End to end: the org admin over 东山村党支部 registers a 党课 that began ten minutes ago and opens its check-in
host screen (a QR code and a short form fetched by the page itself); 张党员, on a phone at 360 px, types the short
form at /checkin and is checked in; the host screen counts them.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from elearn import clock
from tests.browser.conftest import login, shoot

pytestmark = pytest.mark.browser

NARROW = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
def narrow(browser):
    ctx = browser.new_context(**NARROW, locale="zh-CN")
    yield ctx
    ctx.close()


def test_host_shows_a_qr_code_and_a_member_types_the_short_form(live_server, desktop, narrow, screenshot_dir):
    base = live_server["url"]
    host = desktop.new_page()
    login(host, base, "orgadmin")
    host.goto(base + "/branch/")
    host.get_by_role("link", name=re.compile("东山村党支部")).first.click()
    host.wait_for_url(re.compile(r".*/branch/\d+$"))
    host.get_by_role("link", name="登记会议").first.click()
    start = clock.to_site(clock.now_utc() - timedelta(minutes=10))
    host.select_option("#kind", value="lecture")
    host.fill("#title", "扫码签到的党课")
    host.fill("#starts_at", start.strftime("%Y-%m-%dT%H:%M"))
    host.fill("#ends_at", (start + timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M"))
    host.get_by_role("button", name="保存").click()
    host.wait_for_url(re.compile(r".*/branch/meetings/\d+$"))
    meeting_id = host.url.rsplit("/", 1)[1]

    host.goto(f"{base}/checkin/host/meeting/{meeting_id}")
    host.wait_for_selector("#checkin-qr svg")
    short = host.locator("#checkin-short")
    host.wait_for_function("() => document.getElementById('checkin-short').textContent.trim().length === 6")
    code = short.inner_text().strip()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", code)
    box = host.locator("#checkin-qr svg").bounding_box()
    assert box is not None and box["width"] >= 200
    shoot(host, screenshot_dir, "e2e-checkin-host", "desktop")

    phone = narrow.new_page()
    login(phone, base, "member")
    phone.goto(base + "/checkin")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 362
    phone.fill("#checkin-code", code.lower())
    shoot(phone, screenshot_dir, "e2e-checkin-type-360", "phone")
    phone.get_by_role("button", name="签到").click()
    phone.wait_for_selector("text=签到成功")
    assert "扫码签到的党课" in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 362
    shoot(phone, screenshot_dir, "e2e-checkin-done-360", "phone")

    host.reload()
    host.wait_for_function("() => document.getElementById('checkin-count').textContent.trim() === '1'")
    assert "张党员" in host.locator("#checkin-present").inner_text()
    shoot(host, screenshot_dir, "e2e-checkin-host-counted", "desktop")
