"""End to end at 360 px: a member takes a note while the lesson plays (saved without reloading the page, so
playback goes on), clicks the note's time to seek back there, and asks a question; the lecturer answers it
from the lesson page; the member sees the answer and the notification.

The demo data publishes 党章党规党纪专题教育 (by the demo lecturer) to the rural sector's member.
"""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login, shoot, wait_for_playlists

pytestmark = pytest.mark.browser

COURSE = "党章党规党纪专题教育"
LESSON = "第一讲：学习《中国共产党纪律处分条例》"
VIDEO = "document.querySelector('#player video')"
NARROW = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
def narrow(browser):
    ctx = browser.new_context(**NARROW, locale="zh-CN")
    yield ctx
    ctx.close()


def _open_lesson(page, base: str) -> str:
    page.goto(base + "/")
    # The course itself, in 我的学习专题 — not the resume link, whose name also holds the course title once an
    # earlier test in the session has studied it.
    page.locator("section.my-series").get_by_role("link", name=COURSE, exact=True).first.click()
    page.wait_for_url(re.compile(r".*/learn/courses/\d+$"))
    page.get_by_role("link", name=LESSON).click()
    page.wait_for_url(re.compile(r".*/learn/lessons/\d+$"))
    return page.url


def test_note_while_playing_seek_to_it_and_a_question_answered(live_server, narrow, browser, screenshot_dir):
    base = live_server["url"]
    page = narrow.new_page()
    login(page, base, "member")
    lesson_url = _open_lesson(page, base)
    wait_for_playlists(page)
    page.evaluate(f"{VIDEO}.muted = true; {VIDEO}.play()")
    page.wait_for_function(f"() => {VIDEO}.currentTime > 3", timeout=20_000)

    # Begin a note: its moment is held from the focus on, while the video plays on.
    box = page.locator("[data-role=note-form] textarea")
    box.tap()
    held = float(page.evaluate(f"{VIDEO}.currentTime"))
    box.fill("纪律处分的种类：警告、严重警告……")
    page.get_by_role("button", name="保存笔记").tap()
    note = page.locator("[data-role=note-list] li").first
    note.wait_for(timeout=10_000)
    assert "纪律处分的种类" in note.inner_text()
    assert page.url == lesson_url  # no reload: still the same page, still playing
    assert page.evaluate(f"{VIDEO}.paused") is False
    assert page.evaluate("document.body.scrollWidth") <= 360
    shoot(page, screenshot_dir, "e2e-notes-saved", "phone")

    # Somewhere else in the video, then the note's time: the player goes back to the note.
    page.evaluate(f"{VIDEO}.pause(); {VIDEO}.currentTime = 30")
    page.wait_for_function(f"() => Math.abs({VIDEO}.currentTime - 30) < 1")
    note.locator("a.note-time").tap()
    page.wait_for_function(f"() => Math.abs({VIDEO}.currentTime - {held}) < 1.5", timeout=10_000)
    assert page.url == lesson_url

    # My notes lists it with a link to that moment.
    page.goto(base + "/me/notes")
    assert COURSE in page.inner_text("main") and "纪律处分的种类" in page.inner_text("main")
    shoot(page, screenshot_dir, "e2e-notes-mine", "phone")

    # A question under the lesson.
    page.goto(lesson_url)
    page.locator("#questions textarea[name=body]").fill("“警告”会影响评优吗？")
    page.get_by_role("button", name="提问").tap()
    page.wait_for_url(re.compile(r".*/learn/lessons/\d+#post-\d+$"))
    assert "等待讲师回答" in page.inner_text("#questions")

    # The lecturer sees it waiting and answers it from the lesson page.
    lecturer_ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        lp = lecturer_ctx.new_page()
        login(lp, base, "lecturer")
        lp.goto(lesson_url.split("#")[0])
        thread = lp.locator(".thread", has_text="“警告”会影响评优吗？")
        thread.locator("textarea[name=body]").fill("受警告处分的党员，当年不得评为优秀。")
        thread.get_by_role("button", name="发送").click()
        lp.wait_for_load_state()
        assert "讲师回答" in lp.locator(".thread", has_text="“警告”会影响评优吗？").inner_text()
        shoot(lp, screenshot_dir, "e2e-question-answered", "desktop")
    finally:
        lecturer_ctx.close()

    page.goto(lesson_url.split("#")[0])
    thread = page.locator(".thread", has_text="“警告”会影响评优吗？")
    assert "受警告处分的党员" in thread.inner_text() and "讲师回答" in thread.inner_text()
    assert page.evaluate("document.body.scrollWidth") <= 360
    shoot(page, screenshot_dir, "e2e-question-answered", "phone")
