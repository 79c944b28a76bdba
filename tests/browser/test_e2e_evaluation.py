"""The evaluation report as an admin prints it: the screen at 1280 px and the print rendering (A4, no
navigation, a page per section), both kept as screenshots to look at."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, shoot

pytestmark = pytest.mark.browser


def test_admin_opens_the_five_year_evaluation_and_prints_it(desktop, live_server, screenshot_dir):
    base = live_server["url"]
    page = desktop.new_page()
    login(page, base, "admin")
    page.goto(base + "/analytics/")
    page.get_by_role("link", name="评估报告").click()
    page.get_by_role("link", name="五年总结评估").click()
    expect(page.locator("#coverage h2")).to_contain_text("一、应训尽训")
    expect(page.locator("#secretaries table")).to_be_visible()
    assert page.locator("svg.chart[role=img]").count() >= 3  # charts, each with its figures in a table
    shoot(page, screenshot_dir, "30-evaluation", "desktop")
    pdf_url = page.get_by_role("link", name="下载 PDF").get_attribute("href") or ""
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator(".evaluation-form")).to_be_hidden()
    shoot(page, screenshot_dir, "30-evaluation-print", "desktop")
    pdf = page.request.get(base + pdf_url)
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
