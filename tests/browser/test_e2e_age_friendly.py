"""End to end: the age-friendly mode (适老化) on a 360-px phone. A member turns it on from the account menu of the
phone's folded navigation and comes back to a home in large type with big buttons, no sideways scrolling, and
every link and button of the page at least 48 × 48 px; then turns it off again on its settings page.
Screenshot: age-friendly-home-phone360.png in the screenshot folder."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, shoot

pytestmark = pytest.mark.browser


def test_phone_member_turns_on_the_age_friendly_mode(browser, live_server, screenshot_dir):
    base = live_server["url"]
    ctx = browser.new_context(viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True,
                              device_scale_factor=2, locale="zh-CN")
    page = ctx.new_page()
    try:
        login(page, base, "cadre")  # a demo member no other browser test signs in as
        page.get_by_role("button", name="菜单").tap()
        page.locator("details.account-menu summary").tap()
        page.get_by_role("button", name="开启适老模式").tap()
        expect(page.locator("html")).to_have_class(re.compile(r"\belder\b"))
        expect(page.get_by_role("status").filter(has_text="已开启适老模式")).to_be_visible()
        assert page.url.rstrip("?") == base + "/"

        assert page.evaluate("document.body.scrollWidth") <= 360
        text_px = page.evaluate("parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)")
        assert text_px >= 20, text_px
        buttons = page.locator("main .button.big")
        assert buttons.count() >= 2 and buttons.first.is_visible()
        # Every visible link and button of the page's content: at least 48 × 48 px.
        small = page.locator("main a, main button").evaluate_all(
            "els => els.filter(e => e.offsetParent).map(e => [e.textContent.trim(), e.getBoundingClientRect()])"
            ".filter(([, r]) => r.height < 48 || r.width < 48).map(([t, r]) => `${t} ${r.width}x${r.height}`)")
        assert small == [], small
        shoot(page, screenshot_dir, "age-friendly-home", "phone360")

        page.goto(base + "/account/age-friendly")
        page.locator("main").get_by_role("button", name="关闭适老模式").tap()
        expect(page.get_by_role("status").filter(has_text="已关闭适老模式")).to_be_visible()
        assert "elder" not in (page.locator("html").get_attribute("class") or "")
    finally:
        ctx.close()
