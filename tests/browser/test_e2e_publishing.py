"""End to end: from a lecturer's upload to a member of the targeted sector — and nobody else.

A lecturer creates a course, uploads a clip made by ffmpeg at test time with the upload progress bar,
watches the transcoding state, adds subtitles, builds a question bank and a quiz, and submits the course;
the site admin approves it and publishes a series with it to the 城市社区 sector; the community member finds
it on the home page and plays it (hls.js, with the subtitles), while a rural member sees neither the series
nor the course — not even at its URL.
"""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, login, shoot, wait_for_playlists
from tests.media.clips import make_clip

pytestmark = pytest.mark.browser

VIDEO = "document.querySelector('#player video')"
SRT = """1
00:00:00,000 --> 00:00:02,000
同志们好，今天学习社区治理。

2
00:00:02,000 --> 00:00:04,000
党建引领基层治理。
"""
QUESTIONS = [  # kind, text, options, the correct answer's label to tick
    ("单选题", "社区党组织的核心作用是什么？", ["领导作用", "娱乐作用", "无作用"], "选项A是正确答案"),
    ("判断题", "党建引领是基层治理的根本。", [], "正确"),
]


def _watch_texts(page, selector: str, sink: list) -> None:
    """Record every text the user is shown in ``selector`` (across the page's own reloads)."""
    page.expose_function("__e2eSeen", lambda text: sink.append(text))
    page.add_init_script("""(() => {
        const start = () => {
            const seen = (el) => el && el.textContent.trim() && window.__e2eSeen(el.textContent.trim());
            new MutationObserver(() => document.querySelectorAll(%r).forEach(seen))
                .observe(document.body, {subtree: true, childList: true, characterData: true});
            document.querySelectorAll(%r).forEach(seen);
        };
        if (document.body) { start(); } else { document.addEventListener('DOMContentLoaded', start); }
    })();""" % (selector, selector))


def test_lecturer_to_admin_to_the_targeted_sector_only(browser, live_server, desktop, phone, screenshot_dir,
                                                         tmp_path):
    base = live_server["url"]
    suffix = uuid.uuid4().hex[:4]
    course_title = f"社区治理与党建引领 {suffix}"
    lesson_title = "第一讲：党建引领基层治理"
    quiz_title = f"社区治理小测 {suffix}"
    series_title = f"社区党员专题 {suffix}"
    clip = make_clip(tmp_path / "社区治理.mp4", seconds=6, size="640x360")
    srt = tmp_path / "社区治理.srt"
    srt.write_text(SRT, encoding="utf-8")

    # ---------------------------------------------------------------- the lecturer, on a PC
    page = desktop.new_page()
    seen: list[str] = []
    _watch_texts(page, "#asset-status [data-role=label], #upload-form [data-role=upload-text]", seen)
    login(page, base, "lecturer")
    page.get_by_role("navigation").get_by_role("link", name="课程工作室").click()
    page.get_by_role("link", name="新建课程").click()
    page.get_by_label("课程名称").fill(course_title)
    page.get_by_label("课程简介（支持 Markdown）").fill("面向城市社区党员：**党建引领基层治理**。")
    page.get_by_label("课程类别").select_option(label="党章党规党纪教育")
    page.get_by_role("button", name="创建课程").click()
    page.wait_for_url(re.compile(r".*/studio/courses/\d+$"))
    expect(page.get_by_text(f"已创建课程：{course_title}")).to_be_visible()
    studio_course_url = page.url

    page.get_by_label("课时名称").fill(lesson_title)
    page.get_by_role("button", name="添加课时").click()
    page.wait_for_url(re.compile(r".*/studio/lessons/\d+$"))
    expect(page.get_by_role("heading", name=lesson_title)).to_be_visible()

    # Upload with the progress bar, then watch the transcode until the page offers a preview.
    page.get_by_label("上传新视频（可达数 GB，支持断点续传）").set_input_files(str(clip))
    page.get_by_role("button", name="开始上传").click()
    expect(page.locator(".upload-progress")).to_be_visible()
    expect(page.get_by_text("上传完成，已加入转码队列。")).to_be_visible(timeout=30_000)
    assert page.evaluate("document.querySelector('.upload-progress .progress span').style.width") == "100%"
    shoot(page, screenshot_dir, "e2e-studio-uploaded", "desktop")
    # The page reloads by itself once the video is ready.
    expect(page.get_by_role("link", name="预览")).to_be_visible(timeout=120_000)
    labels = [t for t in seen if not t.startswith(("正在上传", "上传完成"))]
    assert any(t.startswith(("排队中", "转码中")) for t in labels), seen
    assert "可播放" in labels, seen
    assert labels.index("可播放") > min(i for i, t in enumerate(labels) if t.startswith(("排队中", "转码中"))), seen
    assert "社区治理.mp4" in page.locator("#main, main").first.inner_text()

    # Subtitles, after the video is ready: they are added to the published stream by a job.
    page.get_by_label("字幕文件（.srt 或 .vtt）").set_input_files(str(srt))
    page.get_by_label("语言").select_option(label="中文")
    page.get_by_role("button", name="上传字幕").click()
    expect(page.get_by_text("字幕已上传。")).to_be_visible()
    expect(page.locator("section.card", has_text="字幕").get_by_text("中文 (zh-CN)")).to_be_visible()
    shoot(page, screenshot_dir, "e2e-studio-lesson-ready", "desktop")

    # A question bank and a published quiz, reached from the 测验 page.
    page.get_by_role("navigation").get_by_role("link", name="测验").click()
    page.locator("section", has_text="我的课程题库").get_by_role("link", name=course_title).click()
    page.wait_for_url(re.compile(r".*/quiz/course/\d+/bank$"))
    for kind, text, options, correct in QUESTIONS:
        page.get_by_label("题型").select_option(label=kind)
        page.get_by_label("题目", exact=True).fill(text)
        for letter, option in zip("ABCDEF", options, strict=False):
            page.get_by_label(f"选项{letter}", exact=True).fill(option)
        page.get_by_label(correct, exact=True).check()
        page.get_by_role("button", name="添加题目").click()
        expect(page.get_by_text("已添加题目。")).to_be_visible()
        expect(page.locator("tbody tr", has_text=text)).to_be_visible()
    page.get_by_label("测验名称").fill(quiz_title)
    page.get_by_label("抽题数量").fill("2")
    page.get_by_label("发布（学员可见）").check()
    page.get_by_role("button", name="保存测验").click()
    expect(page.get_by_text("已保存测验。")).to_be_visible()
    quiz_row = page.locator("p", has=page.get_by_role("link", name=quiz_title))
    expect(quiz_row.get_by_text("已发布")).to_be_visible()
    shoot(page, screenshot_dir, "e2e-quiz-bank", "desktop")

    # Submit for review.
    page.goto(studio_course_url)
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("已提交审核。")).to_be_visible()
    expect(page.get_by_text("课程正在审核或已通过审核，不能修改。")).to_be_visible()
    page.close()

    # ---------------------------------------------------------------- the site admin approves and publishes
    admin = browser.new_context(**DESKTOP, locale="zh-CN")  # another person, another browser
    page = admin.new_page()
    login(page, base, "admin")
    page.get_by_role("navigation").get_by_role("link", name="课程审核").click()
    row = page.locator("tbody tr", has=page.get_by_role("link", name=course_title))
    expect(row).to_contain_text("李讲师")
    shoot(page, screenshot_dir, "e2e-review-queue", "desktop")
    row.get_by_role("link", name=course_title).click()
    expect(page.get_by_role("heading", name=re.compile(course_title))).to_be_visible()
    expect(page.get_by_text(lesson_title)).to_be_visible()
    page.get_by_label("审核意见").fill("内容准确，同意发布。")
    page.get_by_role("button", name="通过").click()
    expect(page.get_by_text(f"已通过审核：{course_title}")).to_be_visible()

    page.get_by_role("navigation").get_by_role("link", name="专题发布").click()
    page.get_by_role("link", name="新建专题").click()
    page.get_by_label("专题名称").fill(series_title)
    page.get_by_label("简介").fill("城市社区党员选学。")
    page.get_by_label(course_title).check()
    page.get_by_label("城市社区", exact=True).check()
    shoot(page, screenshot_dir, "e2e-series-editor", "desktop")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text(f"已保存专题：{series_title}")).to_be_visible()
    expect(page.get_by_text("未发布")).to_be_visible()
    page.get_by_role("button", name="发布", exact=True).click()
    expect(page.get_by_text("专题已发布。")).to_be_visible()
    expect(page.get_by_text("已发布", exact=True)).to_be_visible()
    admin.close()

    # ---------------------------------------------------------------- a member of the targeted sector, on a phone
    page = phone.new_page()
    login(page, base, "community")
    series = page.locator("article.series-item", has=page.get_by_role("heading", name=series_title))
    expect(series).to_be_visible()
    shoot(page, screenshot_dir, "e2e-community-home", "phone")
    series.get_by_role("link", name=course_title).tap()
    page.wait_for_url(re.compile(r".*/learn/courses/\d+$"))
    course_url = page.url
    expect(page.locator(".prose strong", has_text="党建引领基层治理")).to_be_visible()
    page.get_by_role("link", name=lesson_title).tap()
    page.wait_for_url(re.compile(r".*/learn/lessons/\d+$"))
    lesson_url = page.url
    wait_for_playlists(page)
    assert page.evaluate(f"!!window.Hls && {VIDEO}.src.startsWith('blob:')")
    captions = page.get_by_label("字幕")
    expect(captions).to_be_enabled(timeout=15_000)
    expect(captions.locator("option", has_text="中文")).to_have_count(1)
    page.evaluate(f"{VIDEO}.play()")  # the play button is the browser's; see test_e2e_member_study
    page.wait_for_function(f"() => {VIDEO}.currentTime > 0.5", timeout=15_000)
    shoot(page, screenshot_dir, "e2e-community-player", "phone", full_page=False)
    page.get_by_label("菜单").tap()
    page.get_by_role("navigation").get_by_role("link", name="测验").tap()
    expect(page.locator("section", has_text="可参加的测验").get_by_role("link", name=quiz_title)).to_be_visible()
    page.close()

    # ---------------------------------------------------------------- a member of another sector sees nothing of it
    other = browser.new_context(**PHONE, locale="zh-CN")
    try:
        page = other.new_page()
        login(page, base, "member")
        expect(page.get_by_role("heading", name="2026年度党员集中学习专题")).to_be_visible()
        assert series_title not in page.locator("main").inner_text()
        assert course_title not in page.locator("main").inner_text()
        for url in (course_url, lesson_url):
            response = page.goto(url)
            assert response.status == 404, url
            expect(page.get_by_text("页面不存在。")).to_be_visible()
        page.goto(base + "/quiz/")
        assert quiz_title not in page.locator("main").inner_text()
        page.goto(base + "/search/?q=" + course_title.split()[0])
        assert course_title not in page.locator("main").inner_text()
    finally:
        other.close()


# Was a bug: the captions menu said 中文 but hls.js switched the track off (every subtitle track DEFAULT=NO).
def test_subtitles_shown_in_the_captions_menu_are_on_screen(live_server, desktop):
    page = desktop.new_page()
    login(page, live_server["url"], "community")
    page.get_by_role("link", name="党章党规党纪专题教育").first.click()
    page.get_by_role("link", name="第一讲：学习《中国共产党纪律处分条例》").click()
    wait_for_playlists(page)
    expect(page.get_by_label("字幕")).to_have_value("0")  # the menu shows 中文 chosen
    page.evaluate(f"{VIDEO}.play()")
    page.wait_for_function(f"() => {VIDEO}.currentTime > 3", timeout=15_000)
    modes = page.evaluate(f"Array.from({VIDEO}.textTracks).map(t => t.mode)")
    assert modes == ["showing"], modes
