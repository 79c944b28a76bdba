"""An admin exports the dashboard on a phone: the job runs in the real worker, the page shows its progress
(static/js/poll.js) and starts the download when the workbook is ready (or shows the link at once when the
worker was quicker than the page)."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import login, shoot

pytestmark = pytest.mark.browser


def test_admin_exports_the_dashboard_with_progress_then_download(phone, live_server, screenshot_dir):
    base = live_server["url"]
    page = phone.new_page()
    login(page, base, "admin")
    page.goto(base + "/analytics/")
    expect(page.locator("main h1")).to_contain_text("学习分析")
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("button", name="导出 Excel").click()
        page.wait_for_url(re.compile(r".*/analytics/exports/\d+$"))
        expect(page.locator("[role=status]")).to_be_visible()
        if page.locator("[data-role=download]").is_visible():
            # The worker was done before the page loaded: nothing to wait for, the link is there.
            page.get_by_role("link", name="下载").click()
    download = download_info.value
    assert re.fullmatch(r"analytics-\d+-\d{4}-\d{2}-\d{2}\.xlsx", download.suggested_filename)
    # The page itself turned to "done" with the download link (polling, no reload).
    expect(page.locator("[data-role=download]")).to_be_visible()
    expect(page.locator("[data-role=label]")).to_have_text("已完成")
    shoot(page, screenshot_dir, "12-analytics-export", "phone")
    wb = load_workbook(io.BytesIO(Path(download.path()).read_bytes()), read_only=True)
    assert wb.sheetnames[0] == "概览" and len(wb.sheetnames) == 7
    overview = list(wb["概览"].iter_rows(values_only=True))
    assert overview[0][0] == "组织" and overview[1][1] > 0  # the demo's members are counted
    # The dashboard now lists this export.
    page.goto(base + "/analytics/")
    expect(page.locator("a[href*='/analytics/exports/']").first).to_be_visible()
