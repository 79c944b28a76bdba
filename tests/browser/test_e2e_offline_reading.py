"""Offline reading on a 360 px phone: the service worker registers, the member saves a reading, the network
goes away, the reading opens from the device (saying that offline reading earns no 学时), the position read
offline is kept and, once the network is back, reaches the server."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.browser.conftest import PHONE, login, shoot
from tests.browser.test_reader_progress import SETUP

pytestmark = pytest.mark.browser


def _is_position(response) -> bool:
    return response.request.method == "POST" and re.search(r"/readings/\d+/position$", response.url) is not None


def test_a_saved_reading_opens_offline_and_its_position_syncs_later(live_server, browser, screenshot_dir):
    base = live_server["url"]
    out = subprocess.run([sys.executable, "-c", SETUP.replace("阅读计时测试", "离线阅读测试")], env=live_server["env"],
                         capture_output=True, text=True, check=True)
    reading_id = int(out.stdout.strip().splitlines()[-1])
    context = browser.new_context(**{**PHONE, "viewport": {"width": 360, "height": 740}}, locale="zh-CN")
    try:
        page = context.new_page()
        login(page, base, "member")
        page.goto(f"{base}/readings/{reading_id}")
        page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
                               timeout=15_000)
        page.get_by_role("button", name="保存以离线阅读").click()
        page.get_by_text("已保存在本设备上，没有网络时也能阅读。").wait_for()
        shoot(page, screenshot_dir, "offline-reading-saved", "phone", full_page=False)

        context.set_offline(True)
        page.goto(f"{base}/readings/{reading_id}")
        notice = page.locator(".offline-notice")
        assert notice.is_visible() and "离线阅读不计学时" in notice.inner_text()
        assert page.locator("#reader h1").inner_text() == "离线阅读测试"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
        shoot(page, screenshot_dir, "offline-reading", "phone", full_page=False)
        target = page.evaluate("(() => { const ps = document.querySelectorAll('#reader p[id^=\"p-\"]');"
                               " const p = ps[Math.min(4, ps.length - 1)]; p.scrollIntoView(); return p.id; })()")
        page.wait_for_function(
            "([id, p]) => ((JSON.parse(localStorage.getItem('elearn.offline')) || {}).positions || {})[id]?.paragraph"
            " === p", arg=[str(reading_id), target], timeout=10_000)
        # Any other page, offline: the offline page, listing what was saved.
        page.goto(f"{base}/learn/")
        assert page.locator("h1").inner_text() == "当前没有网络"
        assert page.locator("#offline-saved a", has_text="离线阅读测试").is_visible()

        page.go_back()
        with page.expect_response(_is_position, timeout=15_000) as synced:
            context.set_offline(False)
        assert synced.value.status == 200 and synced.value.request.post_data_json == {"paragraph": target}
        page.goto(f"{base}/readings/{reading_id}")
        assert page.locator("#resume a").get_attribute("href") == f"#{target}"
        assert page.locator(".offline-notice").count() == 0  # online, the live page (reading time counts)
    finally:
        context.close()
