"""End to end at 360 px: the org admin of 城关镇党委 appoints 赵书记 secretary of 东山村党支部 from the branch page;
the secretary finds 支部工作 in the navigation, schedules a 党课 that began an hour ago, marks 张党员 present and
郑骑手 excused with a reason, uploads a photo (progress bar), closes the meeting as held, and 张党员 has
the lecture's 学时 in their ledger.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from elearn import clock
from tests.browser.conftest import login, shoot

pytestmark = pytest.mark.browser

NARROW = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200 + b"\xff\xd9"


@pytest.fixture
def narrow(browser):
    ctx = browser.new_context(**NARROW, locale="zh-CN")
    yield ctx
    ctx.close()


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 362, page.url


def test_secretary_schedules_marks_and_closes_a_lecture(live_server, narrow, screenshot_dir, tmp_path):
    base = live_server["url"]
    page = narrow.new_page()
    login(page, base, "orgadmin")
    page.goto(base + "/branch/")
    page.get_by_role("link", name=re.compile("东山村党支部")).first.click()
    page.wait_for_url(re.compile(r".*/branch/\d+$"))
    branch_url = page.url
    option = page.locator("#user_id option", has_text="赵书记").first.get_attribute("value")
    page.select_option("#user_id", value=option)
    page.select_option("#post", value="secretary")
    page.get_by_role("button", name="任命").click()
    page.wait_for_url(re.compile(r".*/branch/\d+#officers$"))
    assert "书记：赵书记" in page.locator("#officers").inner_text()
    page.context.clear_cookies()

    login(page, base, "secretary")
    # 支部工作 is in their navigation (folded behind the menu button on a phone)
    assert page.locator("a", has_text="支部工作").count() >= 1
    page.goto(base + "/branch/")
    page.wait_for_url(branch_url)  # the one branch they run: straight to it
    _fits(page)
    shoot(page, screenshot_dir, "e2e-branch-dashboard", "phone")
    page.get_by_role("link", name="登记会议").first.click()
    start = clock.to_site(clock.now_utc() - timedelta(hours=1))
    page.select_option("#kind", value="lecture")
    page.fill("#title", "学习党章第一章")
    page.fill("#starts_at", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#ends_at", (start + timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#place", "村委会议室")
    page.fill("#agenda", "一、领学党章\n二、交流发言")
    _fits(page)
    shoot(page, screenshot_dir, "e2e-branch-meeting-new", "phone")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/branch/meetings/\d+$"))
    meeting_url = page.url

    page.locator("fieldset", has_text="张党员").get_by_label("出席").check()
    excused = page.locator("fieldset", has_text="郑骑手")
    excused.get_by_label("请假").check()
    excused.locator("input[type=text]").fill("外出务工")
    page.get_by_role("button", name="保存出勤").click()
    page.wait_for_url(meeting_url)
    assert "已登记出勤" in page.content()

    photo = tmp_path / "合影.jpg"
    photo.write_bytes(JPEG)
    page.set_input_files("#file", str(photo))
    page.get_by_role("button", name="上传").click()
    page.wait_for_url(re.compile(r".*/branch/meetings/\d+\?uploaded=\d+#attachments$"))
    assert page.get_by_role("link", name="合影.jpg").count() == 1

    page.get_by_role("button", name="登记为已召开").click()
    page.wait_for_url(meeting_url)
    assert page.locator("[data-role=meeting-status]").inner_text() == "已召开"
    _fits(page)
    shoot(page, screenshot_dir, "e2e-branch-meeting-held", "phone")
    page.context.clear_cookies()

    login(page, base, "member")
    page.goto(base + "/me/")
    assert "学习党章第一章" in page.content()
