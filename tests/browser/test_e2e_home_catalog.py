"""End to end: the member's home and the catalog on a phone (360 px) and a PC (1280 px).

A community member opens the catalog from the navigation, filters it to electives, adds the elective course
of their sector's series to "my courses" and finds it there; a rural member's home shows the required series
with a bar per course, the pace and the recommendations, and their catalog never offers the community series.
Screenshots: home-catalog-*.png in the screenshot folder.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, shoot

pytestmark = pytest.mark.browser

ELECTIVE_SERIES = "城市社区党员学纪专题"
COURSE = "党章党规党纪专题教育"
REQUIRED_SERIES = "2026年度党员集中学习专题"


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_phone_member_filters_the_catalog_and_keeps_an_elective(browser, live_server, screenshot_dir):
    base = live_server["url"]
    ctx = browser.new_context(viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True,
                              device_scale_factor=2, locale="zh-CN")
    page = ctx.new_page()
    try:
        login(page, base, "community")
        home = page.locator("section.my-series")
        assert home.get_by_role("heading", name=ELECTIVE_SERIES).is_visible()
        _no_sideways_scroll(page)
        shoot(page, screenshot_dir, "home-catalog-home", "phone360")

        page.goto(base + "/learn/")  # the navigation folds into a menu on a phone (static/js/nav.js)
        page.select_option("select[name=kind]", "elective")
        page.get_by_role("button", name="筛选").tap()
        page.wait_for_url(re.compile(r".*/learn/\?.*kind=elective"))
        card = page.locator("li.course-card", has=page.get_by_role("link", name=COURSE))
        assert card.is_visible() and page.locator(".chips").get_by_text("选修").is_visible()
        _no_sideways_scroll(page)
        shoot(page, screenshot_dir, "home-catalog-filtered", "phone360")

        card.get_by_role("button", name="加入我的课程").tap()
        # The same address again after the redirect: wait for the message, not for the URL.
        expect(page.get_by_role("status").filter(has_text="已加入“我的课程”。")).to_be_visible()
        page.goto(base + "/learn/mine")
        mine = page.locator("li.course-card", has=page.get_by_role("link", name=COURSE))
        assert mine.is_visible() and mine.get_by_role("button", name="移出我的课程").is_visible()
        _no_sideways_scroll(page)
        shoot(page, screenshot_dir, "home-catalog-mine", "phone360")
    finally:
        ctx.close()


def test_desktop_member_home_and_catalog(desktop, live_server, screenshot_dir):
    base = live_server["url"]
    page = desktop.new_page()
    login(page, base, "member")
    series = page.locator("article.series-item", has=page.get_by_role("heading", name=REQUIRED_SERIES))
    assert series.locator("[role=progressbar]").count() >= 2  # a bar per course of the required series
    assert page.get_by_text("按进度到今天应完成").is_visible()
    assert page.locator("#recs-h").is_visible() and page.get_by_text("推荐理由：").first.is_visible()
    shoot(page, screenshot_dir, "home-catalog-home", "desktop")
    page.goto(base + "/learn/")
    options = page.locator("select[name=series] option").all_inner_texts()
    assert REQUIRED_SERIES in options and ELECTIVE_SERIES not in options
    assert page.locator("li.course-card").count() == 2
    shoot(page, screenshot_dir, "home-catalog-catalog", "desktop")
