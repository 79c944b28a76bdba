"""End to end at 360 px: the lecturer goes from the studio's course page to its question bank, adds a
single-choice question by ticking its correct option (radio buttons: one answer), sees the true/false answer
offered instead when the kind changes, and opens the course's learner statistics from the bank.

The demo data gives the demo lecturer 党章党规党纪专题教育 (no quiz: a question added here changes no draw).
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, shoot

pytestmark = pytest.mark.browser

COURSE = "党章党规党纪专题教育"
NARROW = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
def narrow(browser):
    ctx = browser.new_context(**NARROW, locale="zh-CN")
    yield ctx
    ctx.close()


def test_tick_the_correct_option_on_a_phone(live_server, narrow, screenshot_dir):
    base = live_server["url"]
    page = narrow.new_page()
    login(page, base, "lecturer")
    page.goto(base + "/studio/")
    page.get_by_role("link", name=COURSE).first.click()
    page.wait_for_url(re.compile(r".*/studio/courses/\d+$"))
    page.get_by_role("link", name="题库与测验").click()
    page.wait_for_url(re.compile(r".*/quiz/course/\d+/bank$"))

    page.get_by_label("题型").select_option(label="判断题")
    expect(page.get_by_label("正确", exact=True)).to_be_visible()
    expect(page.get_by_label("选项A", exact=True)).to_be_hidden()
    page.get_by_label("题型").select_option(label="单选题")
    expect(page.get_by_label("正确", exact=True)).to_be_hidden()
    page.get_by_label("题目", exact=True).fill("违纪行为的处分种类有几种？")
    for letter, option in zip("ABC", ["三种", "五种", "七种"], strict=True):
        page.get_by_label(f"选项{letter}", exact=True).fill(option)
    page.get_by_label("选项A是正确答案").check()
    page.get_by_label("选项B是正确答案").check()  # a radio button: B replaces A
    expect(page.get_by_label("选项A是正确答案")).not_to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shoot(page, screenshot_dir, "lecturer-question-ticked", "phone")
    page.get_by_role("button", name="添加题目").click()
    expect(page.get_by_text("已添加题目。")).to_be_visible()
    expect(page.locator("tbody tr", has_text="违纪行为的处分种类有几种？")).to_contain_text("2. 五种 ✓")

    page.get_by_role("link", name="学习情况").click()
    page.wait_for_url(re.compile(r".*/studio/courses/\d+/learners$"))
    expect(page.locator("#learner-figures")).to_contain_text("测验通过率")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
