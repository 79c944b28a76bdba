"""End to end: a rural member studies on a phone, then carries on at the same place on a PC.

The demo data publishes "2026年度党员集中学习专题" to the rural sector; its course 党章党规党纪专题教育 has one
48-second lesson transcoded by the real pipeline. The member plays it through hls.js at 2× (the site's
maximum rate, so the server's wall-clock cap is honest about it), the heartbeats reach
POST /api/v1/lessons/<id>/progress, the lesson completes at 90 % coverage and the credit shows on /me.

The two tests share one member and run in file order: the second resumes where the first left off.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, shoot, wait_for_playlists

pytestmark = pytest.mark.browser

SERIES = "2026年度党员集中学习专题"
OTHER_SECTOR_SERIES = "城市社区党员学纪专题"
COURSE = "党章党规党纪专题教育"
LESSON = "第一讲：学习《中国共产党纪律处分条例》"
VIDEO = "document.querySelector('#player video')"

# What the phone test reached, for the desktop test.
reached: dict = {}


def _is_progress_post(response) -> bool:
    return response.request.method == "POST" and re.search(r"/api/v1/lessons/\d+/progress$", response.url) is not None


def _server_progress(page, lesson_id: int) -> dict:
    """What the server now holds for this member and lesson (GET with the browser's own session).

    The player never reads the body of its heartbeat responses, and Chromium does not finish a fetch whose
    body is unread, so Playwright cannot read those bodies (Response.body() waits forever); the tests look at
    each heartbeat's status and request, and at the server's state through the same API.
    """
    response = page.request.get(f"{page.url.split('/learn/')[0]}/api/v1/lessons/{lesson_id}/progress")
    assert response.ok, response.status
    return response.json()


def _video(page, expr: str):
    return page.evaluate(f"(() => {{ const v = {VIDEO}; return {expr}; }})()")


def _press_play_button(page, playing: bool) -> None:
    """Press the player's play/pause button, as a person would (the browser's own controls are not shown:
    the player has one seek bar, its own), and wait until the video is in that state."""
    button = page.locator("#player [data-role=play]")
    if page.viewport_size["width"] < 600:
        button.tap()
    else:
        button.click()
    page.wait_for_function(f"() => {VIDEO}.paused === {'false' if playing else 'true'}", timeout=10_000)
    expect(button).to_have_attribute("aria-label", "暂停" if playing else "播放")  # the button says what it does


def _open_lesson_from_home(page, base: str) -> None:
    """Home → the sector's series → the course → the lesson, by the links a member sees."""
    page.goto(base + "/")
    series = page.locator("article.series-item", has=page.get_by_role("heading", name=SERIES))
    series.get_by_role("link", name=COURSE).click()
    page.wait_for_url(re.compile(r".*/learn/courses/\d+$"))
    page.get_by_role("link", name=LESSON).click()
    page.wait_for_url(re.compile(r".*/learn/lessons/\d+$"))


def test_member_plays_a_lesson_on_a_phone_until_it_counts(live_server, phone, screenshot_dir):
    base = live_server["url"]
    page = phone.new_page()
    login(page, base, "member")

    # Home: the series published to the rural sector is there, the city-community one is not.
    my_series = page.locator("section.my-series")
    assert my_series.get_by_role("heading", name=SERIES).is_visible()
    assert OTHER_SECTOR_SERIES not in my_series.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shoot(page, screenshot_dir, "e2e-member-home", "phone")

    series = page.locator("article.series-item", has=page.get_by_role("heading", name=SERIES))
    series.get_by_role("link", name=COURSE).tap()
    page.wait_for_url(re.compile(r".*/learn/courses/\d+$"))
    course_url = page.url
    assert page.get_by_role("heading", name=COURSE, level=1).is_visible()
    lesson_item = page.locator(".lesson-list li", has_text=LESSON)
    assert "已学完" not in lesson_item.inner_text()
    shoot(page, screenshot_dir, "e2e-course-before", "phone")

    segments: list[str] = []
    reports = []
    keys: list[str] = []
    page.on("request", lambda r: segments.append(r.url) if re.search(r"\.(ts|m4s)(\?|$)", r.url) else None)
    page.on("request", lambda r: keys.append(r.url) if "/keys/" in r.url else None)
    page.on("response", lambda r: reports.append(r) if _is_progress_post(r) else None)
    lesson_item.get_by_role("link", name=LESSON).tap()
    page.wait_for_url(re.compile(r".*/learn/lessons/\d+$"))
    lesson_id = int(page.url.rsplit("/", 1)[1])
    assert page.get_by_role("heading", name=LESSON).is_visible()

    # The HLS stream is played by hls.js through Media Source Extensions, not by a plain file URL.
    wait_for_playlists(page)
    assert page.evaluate("!!(window.Hls && window.Hls.isSupported())")
    assert _video(page, "v.src").startswith("blob:")
    assert _video(page, "v.paused")
    # Opening the page spends no data on the video: no segment and no key is fetched until play is pressed.
    page.wait_for_timeout(1500)
    assert segments == [] and keys == [], (segments[:3], keys[:3])
    # One seek bar: the player's own; the browser's controls are not shown.
    assert not _video(page, "v.controls")
    # The speed chosen in an earlier lesson is remembered on this device (a fresh browser starts at 1×).
    assert _video(page, "v.playbackRate") == 1.0
    # 2× through the player's own speed menu.
    page.get_by_label("倍速").select_option("2.0")
    assert _video(page, "v.playbackRate") == 2.0

    # Play to the end. A report goes out every 30 s of playing and whenever the member pauses: a pause a few
    # seconds in sends the first one, which already counts; the last one (sent when the video ends) completes
    # the lesson.
    with page.expect_response(lambda r: _is_progress_post(r) and not (r.request.post_data_json or {}).get("ended"),
                              timeout=40_000) as first_report:
        _press_play_button(page, playing=True)
        page.wait_for_function(f"() => {VIDEO}.currentTime > 4", timeout=15_000)
        shoot(page, screenshot_dir, "e2e-player-playing", "phone", full_page=False)
        _press_play_button(page, playing=False)
    # Encrypted HLS: the segments are the same bytes for everyone; each segment's key carries the playback
    # session, and is the evidence the server credits.
    assert segments and all("ps=" not in u and u.endswith("?k=1") for u in segments), segments[:3]
    assert keys and all("ps=" in u for u in keys), keys[:3]
    assert first_report.value.status == 200
    assert first_report.value.request.post_data_json["rate"] == 2
    midway = _server_progress(page, lesson_id)
    assert 0 < midway["watched_seconds"] < 0.9 * 48 and not midway["completed"], midway
    _press_play_button(page, playing=True)

    with page.expect_response(lambda r: _is_progress_post(r) and (r.request.post_data_json or {}).get("ended"),
                              timeout=60_000) as ended_report:
        page.wait_for_function(f"() => {VIDEO}.ended", timeout=60_000, polling=500)
    assert ended_report.value.status == 200
    final = _server_progress(page, lesson_id)
    assert final["completed"] is True and final["coverage"] >= 0.9, final
    # The player says so, with the hours credited.
    page.get_by_text("已完成，计入 0.02 学时。").first.wait_for(timeout=5_000)
    shoot(page, screenshot_dir, "e2e-player-completed", "phone", full_page=False)
    assert all(r.status == 200 for r in reports) and len(reports) >= 2

    # Go back a little to re-watch a passage: tap the seek bar at 40 %, play a moment, pause.
    seekbar = page.locator("[data-role=seekbar]")
    bar = seekbar.bounding_box()
    seekbar.tap(position={"x": bar["width"] * 0.4, "y": bar["height"] / 2})
    page.wait_for_function(f"() => Math.abs({VIDEO}.currentTime - 19.2) < 1.5", timeout=10_000)
    _press_play_button(page, playing=True)
    page.wait_for_function(f"() => {VIDEO}.currentTime > 21", timeout=15_000)
    with page.expect_response(_is_progress_post) as pause_report:
        _press_play_button(page, playing=False)
    assert pause_report.value.status == 200
    paused_at = _video(page, "v.currentTime")
    state = _server_progress(page, lesson_id)
    assert abs(state["position"] - paused_at) < 0.5 and state["completed"], (state, paused_at)
    assert 5 < state["position"] < 38, state  # a position the player offers to resume at
    reached["position"] = state["position"]
    reached["lesson_id"] = lesson_id

    # The speed chosen is remembered on this device: the lesson opened again plays at 2×. (Opening it without
    # playing leaves the resume position where it was: the desktop test below resumes there.)
    page.reload()
    wait_for_playlists(page)
    assert page.get_by_label("倍速").input_value() == "2.0" and _video(page, "v.playbackRate") == 2.0

    # The course page now says the lesson is done.
    page.goto(course_url)
    assert "已学完" in page.locator(".lesson-list li", has_text=LESSON).inner_text()

    # The hours are on the member's dashboard, reached from the phone menu.
    page.get_by_label("菜单").tap()
    page.get_by_role("link", name="我的学时").tap()
    page.wait_for_url(base + "/me/")
    row = page.locator("tbody tr", has_text=f"{COURSE} · {LESSON}")
    assert row.count() == 1
    assert "0.02" in row.inner_text()  # 48 s at 45 minutes per 学时
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shoot(page, screenshot_dir, "e2e-dashboard-after", "phone")


def test_same_member_resumes_on_a_desktop(live_server, desktop, screenshot_dir):
    assert reached, "runs after test_member_plays_a_lesson_on_a_phone_until_it_counts"
    base = live_server["url"]
    page = desktop.new_page()
    login(page, base, "member")
    _open_lesson_from_home(page, base)
    assert int(page.url.rsplit("/", 1)[1]) == reached["lesson_id"]

    wait_for_playlists(page)
    assert page.evaluate("!!window.Hls") and _video(page, "v.src").startswith("blob:")

    # Play starts where the phone stopped, and carrying on from there is reported for the same lesson.
    with page.expect_response(_is_progress_post) as report:
        _press_play_button(page, playing=True)
        page.get_by_text("已从上次观看位置继续播放。").wait_for()
        page.wait_for_function(f"() => {VIDEO}.currentTime > 5", timeout=10_000)
        assert reached["position"] - 0.5 < _video(page, "v.currentTime") < reached["position"] + 3, reached
        page.wait_for_function(f"() => {VIDEO}.currentTime > {reached['position'] + 1}", timeout=15_000)
        _press_play_button(page, playing=False)
    assert report.value.status == 200
    state = _server_progress(page, reached["lesson_id"])
    assert state["completed"] and state["position"] > reached["position"] + 1, state
    shoot(page, screenshot_dir, "e2e-player-resumed", "desktop")


def test_reports_lost_to_a_bad_network_are_sent_again_after_a_reload(live_server, desktop, screenshot_dir):
    """Every progress POST fails (the network drops them); the played intervals stay in localStorage, and the
    next page of the lesson sends them under their own playback session, which holds their evidence."""
    base = live_server["url"]
    page = desktop.new_page()
    login(page, base, "rider")
    _open_lesson_from_home(page, base)
    lesson_id = int(page.url.rsplit("/", 1)[1])
    assert "已观看 0%" in page.locator("[data-role=coverage]").inner_text()
    first_ps = page.locator("#player").get_attribute("data-playback-session")

    def drop_posts(route):
        if route.request.method == "POST":
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(re.compile(r".*/api/v1/lessons/\d+/progress.*"), drop_posts)
    wait_for_playlists(page)
    page.get_by_label("倍速").select_option("2.0")
    _press_play_button(page, playing=True)
    page.wait_for_function(f"() => {VIDEO}.currentTime > 12", timeout=20_000)
    _press_play_button(page, playing=False)  # the pause report is dropped too
    stored = page.evaluate(f"localStorage.getItem('elearn-progress-{lesson_id}-{first_ps}')")
    assert stored and '"intervals"' in stored, stored
    assert _server_progress(page, lesson_id)["watched_seconds"] == 0

    page.unroute(re.compile(r".*/api/v1/lessons/\d+/progress.*"))
    with page.expect_response(lambda r: _is_progress_post(r)
                              and (r.request.post_data_json or {}).get("playback_session") == first_ps,
                              timeout=20_000) as resent:
        page.reload()
    # (the closing page's beacon may have carried them first: either way they count once)
    assert resent.value.status == 200
    assert _server_progress(page, lesson_id)["watched_seconds"] >= 10
    page.wait_for_function(f"() => !localStorage.getItem('elearn-progress-{lesson_id}-{first_ps}')", timeout=5_000)
    assert "已观看" in page.locator("[data-role=coverage]").inner_text()
    shoot(page, screenshot_dir, "e2e-player-resent", "desktop", full_page=False)
