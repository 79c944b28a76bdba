"""End to end: a member searches a phrase from a reading and lands on the highlighted paragraph.

The demo reading is the national plan 《全国党员教育培训工作规划(2024-2028年)》, attached to a course of the
series published to the rural sector; the phrase below is from its fifteenth measure, far down the text,
so landing on it means the reader really scrolled to the paragraph.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, shoot

pytestmark = pytest.mark.browser

PHRASE = "乡村振兴重点帮扶地区"  # in the paragraph of measure (十五), near the end of the text
HEADING_PHRASE = "夯实基础支撑"  # the heading of measure (十五) itself
READING = "全国党员教育培训工作规划"


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_member_searches_a_phrase_and_lands_on_the_paragraph(request, live_server, screenshot_dir, device):
    _search_and_land(request.getfixturevalue(device).new_page(), live_server["url"], screenshot_dir, device, PHRASE)


# Was a bug: a match in a section heading linked to the next paragraph, which had no <mark>.
def test_phrase_found_in_a_heading_is_highlighted_where_the_reader_lands(live_server, desktop, screenshot_dir):
    _search_and_land(desktop.new_page(), live_server["url"], screenshot_dir, "desktop", HEADING_PHRASE,
                     name="e2e-reader-heading-match")


def _search_and_land(page, base: str, screenshot_dir, device: str, phrase: str, name: str = "e2e-reader-highlight"):
    login(page, base, "member")

    # The search page is in the navigation (behind the menu button on a phone).
    if device == "phone":
        page.get_by_label("菜单").tap()
    page.get_by_role("navigation").get_by_role("link", name="搜索").click()
    page.wait_for_url(base + "/search/")
    page.get_by_label("搜索内容").fill(phrase)
    page.get_by_role("button", name="搜索").click()
    page.wait_for_url(re.compile(r".*/search/\?q=.*"))

    status = page.get_by_role("status")
    expect(status).to_contain_text("共找到")
    hit = page.locator(".search-results > li", has=page.get_by_role("link", name=re.compile(READING))).first
    expect(hit).to_be_visible()
    expect(hit.locator(".badge")).to_have_text("阅读材料")
    # The snippet marks the phrase (unquoted, its words are marked on their own too).
    expect(hit.locator(".snippet mark", has_text=phrase).first).to_have_text(phrase)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    if name == "e2e-reader-highlight":
        shoot(page, screenshot_dir, "e2e-search-results", device)

    hit.get_by_role("link", name=re.compile(READING)).click()
    page.wait_for_url(re.compile(r".*/readings/\d+\?q=.*#[ps]-\d+$"))  # a paragraph, or a heading (s-N)
    anchor = page.url.rsplit("#", 1)[1]
    assert anchor != "p-1"
    # The phrase itself is marked in the element the link points at, and that element is on screen.
    mark = page.locator(f"[id='{anchor}'] mark", has_text=phrase).first
    expect(mark).to_have_text(phrase, timeout=2_000)
    expect(mark).to_be_in_viewport()
    # Not hidden behind a sticky header: the marked words are below whatever covers the top of the window.
    covered = page.evaluate("""() => {
        const m = document.querySelector('#%s mark').getBoundingClientRect();
        const hit = document.elementFromPoint(m.left + m.width / 2, m.top + m.height / 2);
        return hit && hit.closest('mark') ? null : (hit ? hit.outerHTML.slice(0, 120) : 'nothing');
    }""" % anchor)
    assert covered is None, covered
    expect(page.get_by_role("status").first).to_contain_text(f"“{phrase}” 出现在")
    assert page.evaluate("window.scrollY") > 500  # deep in the text, not at the top
    shoot(page, screenshot_dir, name, device, full_page=False)
