"""Screenshots of every key page at phone and desktop size, for a person to look at.

Written to the screenshot folder (printed at the start of the run, ``$ELEARN_SCREENSHOT_DIR``) as
``NN-<page>-<phone|desktop>.png``. Each page must also fit its window: nothing wider than the viewport.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, login, shoot, wait_for_playlists

pytestmark = pytest.mark.browser

VIDEO = "document.querySelector('#player video')"


def _fits(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_key_pages_at_both_sizes(browser, live_server, screenshot_dir, device):
    base = live_server["url"]
    options = PHONE if device == "phone" else DESKTOP
    overflow: dict[str, int] = {}
    written = []

    def capture(page, name: str, full_page: bool = True) -> None:
        expect(page.locator("main h1").first).to_be_visible()
        overflow[name] = _fits(page)
        written.append(shoot(page, screenshot_dir, name, device, full_page=full_page).name)

    def person(username: str):
        ctx = browser.new_context(**options, locale="zh-CN")
        page = ctx.new_page()
        login(page, base, username)
        return ctx, page

    ctx, page = person("member")
    try:
        capture(page, "01-home")
        page.locator("section.my-series").get_by_role("link", name="学习贯彻习近平新时代中国特色社会主义思想").click()
        page.wait_for_url(re.compile(r".*/learn/courses/\d+$"))
        capture(page, "02-course")
        page.locator(".lesson-list a").first.click()
        page.wait_for_url(re.compile(r".*/learn/lessons/\d+$"))
        wait_for_playlists(page)
        capture(page, "03-player")
        page.goto(base + "/me/")
        capture(page, "04-dashboard")
        page.goto(base + "/search/?q=" + "党员教育培训")
        expect(page.locator(".search-results > li").first).to_be_visible()
        capture(page, "05-search-results")
        page.locator(".search-results a").first.click()
        page.wait_for_url(re.compile(r".*/readings/\d+.*"))
        capture(page, "06-reader", full_page=False)
    finally:
        ctx.close()

    ctx, page = person("lecturer")
    try:
        page.goto(base + "/studio/")
        capture(page, "07-studio")
        page.get_by_role("link", name="学习贯彻习近平新时代中国特色社会主义思想").click()
        capture(page, "08-studio-course")
    finally:
        ctx.close()

    ctx, page = person("admin")
    try:
        page.goto(base + "/publish/review")
        capture(page, "09-review-queue")
        page.goto(base + "/publish/series/new")
        capture(page, "10-series-editor")
        page.goto(base + "/analytics/")
        capture(page, "11-analytics")
        page.goto(base + "/admin/audit")
        capture(page, "13-audit-log")
    finally:
        ctx.close()

    print(f"\n{device} screenshots in {screenshot_dir}: " + ", ".join(written))
    assert {k: v for k, v in overflow.items() if v > 0} == {}, "pages wider than the window"
