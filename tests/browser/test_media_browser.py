"""The media path in a real browser: a lecturer uploads a clip with upload.js, the worker transcodes it,
the studio shows the live state, and the lesson plays through hls.js with quality and speed menus."""
import re

import pytest

from tests.browser.conftest import login, wait_for_playlists
from tests.media.clips import make_clip

pytestmark = pytest.mark.browser


def test_lecturer_uploads_and_the_lesson_plays(live_server, desktop, screenshot_dir, tmp_path):
    base = live_server["url"]
    clip = make_clip(tmp_path / "第一讲.mp4", seconds=3, size="640x360")
    page = desktop.new_page()
    login(page, base, "lecturer")
    page.goto(base + "/studio/courses/new")
    page.fill("#title", "浏览器测试课程")
    page.select_option("#category", "political_theory")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/studio/courses/\d+$"))
    page.fill("#lesson-title", "第一讲")
    page.click("text=添加课时")
    page.wait_for_url(re.compile(r".*/studio/lessons/\d+$"))
    lesson_url = page.url
    page.set_input_files("#video-file", str(clip))
    page.click("text=开始上传")
    page.wait_for_selector("text=上传完成，已加入转码队列。", timeout=30_000)
    page.screenshot(path=str(screenshot_dir / "studio-upload-desktop.png"), full_page=True)
    # The page reloads by itself when the transcode is ready.
    page.wait_for_selector("text=预览", timeout=120_000)
    page.screenshot(path=str(screenshot_dir / "studio-ready-desktop.png"), full_page=True)

    lesson_id = lesson_url.rsplit("/", 1)[1]
    segments, keys = [], []
    page.on("request", lambda r: segments.append(r.url) if r.url.endswith(".ts") or ".ts?" in r.url else None)
    page.on("request", lambda r: keys.append(r.url) if "/keys/" in r.url else None)
    page.goto(f"{base}/learn/lessons/{lesson_id}")
    wait_for_playlists(page)
    page.evaluate("document.querySelector('#player video').muted = true")
    page.evaluate("document.querySelector('#player video').play()")
    page.wait_for_function("() => document.querySelector('#player video').currentTime > 0.5", timeout=30_000)
    # The upload was transcoded encrypted: shared segments, a key per segment for this playback session.
    assert segments and all(u.endswith("?k=1") for u in segments)
    assert keys and all("?ps=" in u for u in keys)
    rates = page.eval_on_selector_all("[data-role=rate] option", "os => os.map(o => o.value)")
    assert rates[0] == "0.75" and rates[-1] == "2.0"
    page.select_option("[data-role=rate]", "1.5")
    assert page.evaluate("document.querySelector('#player video').playbackRate") == 1.5
    page.hover("[data-role=seekbar]")
    page.wait_for_selector(".seek-preview:not([hidden])")
    page.screenshot(path=str(screenshot_dir / "player-desktop.png"), full_page=True)

    # 仅听音频: the toggle switches to the audio-only rendition where the video was, and playing on is credited.
    video = "document.querySelector('#player video')"
    toggle = page.locator("[data-role=audio-only]")
    assert toggle.get_attribute("aria-pressed") == "false" and "仅听音频" in toggle.inner_text()
    page.evaluate(f"{video}.pause()")
    at = page.evaluate(f"{video}.currentTime")
    listened = []
    page.on("request", lambda r: listened.append(r.url) if "/listen.m3u8" in r.url or "/audio/" in r.url else None)
    page.evaluate(f"{video}.play()")
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    page.wait_for_selector("[data-role=listen-panel]:not([hidden])")
    reports = []
    page.on("response", lambda r: reports.append(r) if r.url.endswith("/progress") and r.request.method == "POST"
            else None)
    page.wait_for_function(f"() => {video}.ended", timeout=30_000)
    assert any("/listen.m3u8?ps=" in u for u in listened)
    assert any("/audio/seg_" in u and u.endswith("?k=1") for u in listened)
    assert page.evaluate("localStorage.getItem('elearn-audio-only')") == "1"
    # The report sent on ended: listening was credited too, beyond what the video had played.
    for _ in range(50):
        if any(r.json()["watched_seconds"] > at + 0.5 for r in reports):
            break
        page.wait_for_timeout(200)
    assert any(r.json()["accepted"] and r.json()["watched_seconds"] > at + 0.5 for r in reports), \
        [r.json() for r in reports]
    page.screenshot(path=str(screenshot_dir / "player-audio-only-desktop.png"), full_page=True)
    # Remembered on this device: the next visit starts listening; pressing it again brings the picture back.
    page.goto(f"{base}/learn/lessons/{lesson_id}")
    wait_for_playlists(page)
    assert toggle.get_attribute("aria-pressed") == "true" and page.is_visible("[data-role=listen-panel]")
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "false" and not page.is_visible("[data-role=listen-panel]")
    assert page.evaluate("localStorage.getItem('elearn-audio-only')") == "0"
