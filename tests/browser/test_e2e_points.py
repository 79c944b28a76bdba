"""End to end at 390 px: the town's org admin switches the points ranking on for 东山村党支部 from the settings
page; the branch's member opens 我的积分 from the account menu, sees the rules and their figures, and opens the
branch's ranking from there (screenshots 40-points-*-phone)."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PHONE, login, shoot

pytestmark = pytest.mark.browser

BRANCH = "东山村党支部"


def test_admin_switches_the_ranking_on_and_the_member_finds_it(live_server, browser, phone, screenshot_dir):
    base = live_server["url"]
    admin_ctx = browser.new_context(**PHONE, locale="zh-CN")
    admin = admin_ctx.new_page()
    login(admin, base, "orgadmin")
    admin.goto(base + "/points/settings")
    card = admin.locator("li.card", has_text=BRANCH)
    card.get_by_role("button", name="开启").click()
    admin.wait_for_selector(".flash-success")
    assert "已开启" in admin.locator("li.card", has_text=BRANCH).inner_text()
    admin_ctx.close()

    page = phone.new_page()
    login(page, base, "member")
    page.locator(".nav-toggle").click()
    page.locator("details.account-menu summary").click()
    page.get_by_role("link", name="我的积分").click()
    page.wait_for_url(base + "/me/points")
    assert page.locator("#points-year").is_visible() and "积分规则" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, screenshot_dir, "40-points-mine", "phone")
    page.get_by_role("link", name=f"{BRANCH}积分排行").click()
    page.wait_for_url(re.compile(r".*/points/organisations/\d+/ranking$"))
    mine = page.locator("tr.me")
    assert "张党员" in mine.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, screenshot_dir, "40-points-ranking", "phone")
