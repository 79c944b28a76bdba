"""On a 360-px phone: an org admin publishes an announcement; the real worker tells the members (a fan-out
job); a member sees the badge count go up, opens the announcement from the notification centre (read: the
badge goes down), and turns e-mail kinds on and off on the settings page. The admin then edits it (the member
sees the new text, marked edited) and withdraws it (gone from the member's notifications, its read count kept)."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, shoot

pytestmark = pytest.mark.browser

NARROW = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def _badge(page) -> int:
    badge = page.locator("#nav-badge-notify-centre")
    return int(badge.text_content() or 0) if badge.count() else 0


def test_announcement_badge_open_and_settings_at_360px(browser, live_server, screenshot_dir):
    base = live_server["url"]
    ctx = browser.new_context(**NARROW, locale="zh-CN")
    admin, member = ctx.new_page(), browser.new_context(**NARROW, locale="zh-CN").new_page()
    login(member, base, "member")
    before = _badge(member)

    login(admin, base, "orgadmin")
    admin.goto(base + "/notifications/announcements/new")
    admin.fill("#title", "关于开展主题党日活动的通知")
    admin.fill("#body", "本周五下午 **三点** 在党员活动室集中学习。<script>alert(1)</script>")
    shoot(admin, screenshot_dir, "30-announcement-new", "phone360")
    admin.get_by_role("button", name="发布", exact=True).click()
    admin.wait_for_url(base + "/notifications/announcements")
    expect(admin.locator("table.announcements")).to_contain_text("关于开展主题党日活动的通知")

    deadline = time.monotonic() + 30
    while _badge(member) <= before and time.monotonic() < deadline:  # the worker runs the fan-out job
        time.sleep(0.5)
        member.goto(base + "/")
    # Other jobs may tell the member something meanwhile (the hourly reminders): at least the announcement.
    told = _badge(member)
    assert told >= before + 1
    member.goto(base + "/notifications")
    item = member.locator("li.notification.unread", has_text="关于开展主题党日活动的通知")
    shoot(member, screenshot_dir, "31-notifications-centre", "phone360")
    assert member.evaluate("document.documentElement.scrollWidth") <= 360
    item.get_by_role("button", name="查看").click()
    member.wait_for_url(re.compile(r".*/notifications/announcements/\d+$"))
    opened = member.url
    expect(member.locator(".announcement-body strong")).to_have_text("三点")
    assert member.locator(".announcement-body script").count() == 0
    shoot(member, screenshot_dir, "32-announcement", "phone360")
    member.goto(base + "/")
    assert _badge(member) < told  # opening it marked it read

    member.goto(base + "/notifications/settings")
    quiz = member.locator("#email_quiz_graded")
    digest = member.locator("#digest")
    was = quiz.is_checked()
    quiz.set_checked(not was)
    digest.check()
    member.get_by_role("button", name="保存").click()
    expect(member.locator("body")).to_contain_text("通知设置已保存")
    assert quiz.is_checked() is (not was) and digest.is_checked()
    assert member.evaluate("document.documentElement.scrollWidth") <= 360
    shoot(member, screenshot_dir, "33-notification-settings", "phone360")

    admin.goto(base + "/notifications/announcements")
    expect(admin.locator("td.read-count").first).to_contain_text(re.compile(r"^1 / \d+"))

    # The admin corrects it: the member's page shows the new text, marked edited.
    row = admin.locator("table.announcements tbody tr").first
    row.get_by_role("link", name="编辑").click()
    admin.fill("#title", "关于开展主题党日活动的通知（改期）")
    admin.fill("#body", "改到周六上午 **九点**。")
    admin.get_by_role("button", name="保存修改").click()
    expect(admin.locator("body")).to_contain_text("公告已修改")
    member.goto(opened)
    expect(member.locator("h1")).to_have_text("关于开展主题党日活动的通知（改期）")
    expect(member.locator(".announcement-body strong")).to_have_text("九点")
    expect(member.locator(".badge.edited")).to_contain_text("已编辑")
    shoot(member, screenshot_dir, "34-announcement-edited", "phone360")

    # Then withdraws it: gone from the member's notifications, the read count kept and marked.
    admin.locator("table.announcements tbody tr").first.get_by_role("button", name="撤回").click()
    expect(admin.locator("body")).to_contain_text("公告已撤回")
    first = admin.locator("table.announcements tbody tr").first
    expect(first.locator(".badge.withdrawn")).to_be_visible()
    expect(first.locator("td.read-count")).to_contain_text(re.compile(r"^1 / \d+"))
    assert admin.evaluate("document.documentElement.scrollWidth") <= 360
    shoot(admin, screenshot_dir, "35-announcement-withdrawn", "phone360")
    member.goto(base + "/notifications")
    expect(member.locator("li.notification", has_text="主题党日活动")).to_have_count(0)
    assert member.goto(opened).status == 404
    ctx.close()
