"""End to end at 360 px: a branch secretary records a 党课 and uploads its video from a phone; a member of the
branch finds it under 党课开讲啦 and plays it; a member of another branch does not see it, until the committee
above nominates it and showcases it as 优秀党课 (a member of the committee's other branch then sees it, one
outside the committee still does not), and no longer once the committee withdraws the showcase."""
from __future__ import annotations

import re
import subprocess
import sys
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, login, shoot, wait_for_playlists
from tests.media.clips import make_clip

pytestmark = pytest.mark.browser

NARROW = {**PHONE, "viewport": {"width": 360, "height": 780}}
APPOINT = """
from elearn import create_app
from elearn.branch import officers
from elearn.orgs import members
app = create_app()
with app.app_context():
    secretary = members.by_username("secretary")
    officers.appoint(members.by_username("orgadmin"), secretary.organisation, secretary, "secretary")
"""


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.url


def test_secretary_uploads_a_party_lecture_and_the_branch_plays_it(browser, live_server, screenshot_dir,
                                                                   tmp_path):
    base = live_server["url"]
    subprocess.run([sys.executable, "-c", APPOINT], env=live_server["env"], check=True, capture_output=True)
    title = f"学习贯彻党的二十大精神 {uuid.uuid4().hex[:4]}"
    clip = make_clip(tmp_path / "党课.mp4", seconds=4, size="640x360")

    ctx = browser.new_context(**NARROW, locale="zh-CN")
    page = ctx.new_page()
    login(page, base, "secretary")
    page.goto(base + "/lectures/")
    page.get_by_role("link", name="管理党课").click()
    page.get_by_role("link", name="登记党课并上传录像").first.click()
    page.get_by_label("党课题目").fill(title)
    page.get_by_label("主讲人").fill("赵书记")
    page.get_by_role("button", name="下一步：上传录像").click()
    page.wait_for_url(re.compile(r".*/lectures/\d+/upload$"))
    page.set_input_files("#video-file", str(clip))
    page.get_by_role("button", name="开始上传").click()
    expect(page.locator("#asset-status [data-role=label]")).to_have_text(re.compile("可播放"), timeout=120_000)
    _fits(page)
    shoot(page, screenshot_dir, "lecture-upload", "360")
    ctx.close()

    ctx = browser.new_context(**NARROW, locale="zh-CN")
    page = ctx.new_page()
    login(page, base, "member")  # 东山村党支部, the secretary's branch
    page.goto(base + "/lectures/")
    expect(page.get_by_role("link", name=title)).to_be_visible()
    _fits(page)
    shoot(page, screenshot_dir, "lectures", "360")
    page.get_by_role("link", name=title).click()
    wait_for_playlists(page)
    _fits(page)
    shoot(page, screenshot_dir, "lecture-play", "360")
    ctx.close()

    ctx = browser.new_context(**NARROW, locale="zh-CN")
    page = ctx.new_page()
    login(page, base, "community")  # 幸福社区党支部: another branch
    page.goto(base + "/lectures/")
    expect(page.get_by_text(title)).to_have_count(0)
    ctx.close()

    def sees(username: str) -> bool:
        ctx = browser.new_context(**NARROW, locale="zh-CN")
        page = ctx.new_page()
        login(page, base, username)
        page.goto(base + "/lectures/")
        seen = page.get_by_text(title).count() > 0
        ctx.close()
        return seen

    assert not sees("elder")  # 西河村党支部, the other branch of the town
    ctx = browser.new_context(**NARROW, locale="zh-CN")
    page = ctx.new_page()
    login(page, base, "orgadmin")  # the committee above the branch
    page.goto(base + "/lectures/manage")
    row = page.locator("li", has_text=title)
    row.get_by_role("button", name="推荐").click()
    expect(page.get_by_text(f"已推荐：{title}")).to_be_visible()
    page.locator("li", has_text=title).get_by_role("button", name="评为优秀党课").click()
    expect(page.get_by_text(f"已评为优秀党课：{title}")).to_be_visible()
    _fits(page)
    shoot(page, screenshot_dir, "lecture-showcase", "360")
    assert sees("elder") and not sees("community")
    page.locator("li", has_text=title).get_by_role("button", name="撤销优秀党课").click()
    expect(page.get_by_text(f"已撤销优秀党课：{title}")).to_be_visible()
    expect(page.locator("li", has_text=title).get_by_role("button", name="评为优秀党课")).to_be_visible()
    ctx.close()
    assert not sees("elder")
