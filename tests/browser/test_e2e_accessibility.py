"""Accessibility, checked by axe-core in the browser: the main pages of each kind of user, in Chinese and the key
ones in English, at desktop and phone sizes, have no violation of impact "serious" or "critical".

axe-core comes from the npm registry (package.json; ``make assets`` installs it into node_modules, where this
test reads it; it is never served to users). One browser context per person and size, looping over its pages.
"""
from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, DESKTOP, PHONE, ROOT, device_of, login, shoot, wait_for_playlists

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")
MEMBER_COURSE = "学习贯彻习近平新时代中国特色社会主义思想"


def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: `make assets` installs axe-core from the npm registry")
    return AXE.read_text()


def serious_violations(page) -> list[str]:
    """Run axe-core over the page as it stands; one line per serious or critical violation: rule and targets."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source() + "\n;undefined")  # evaluated, not a <script>: the site's CSP stays on
    found = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ' — ' + n.failureSummary.split('\\n')
                .slice(1).join(' ').trim() : '')).slice(0, 6)}));
    }""")
    return [f"{v['id']} ({v['impact']}): " + "; ".join(v["nodes"]) for v in found if v["impact"] in SERIOUS]


def small_chart_text(page) -> list[str]:
    """Chart text drawn smaller than 14 px (its font size times the chart's scale), for elderly readers."""
    small = page.evaluate("""() => [...document.querySelectorAll('svg.chart text')].map(t => {
        const svg = t.ownerSVGElement, scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return [t.textContent, parseFloat(getComputedStyle(t).fontSize) * scale];
    }).filter(([, px]) => px < 13.95).map(([text, px]) => `${text} ${px.toFixed(1)}px`)""")
    return [f"chart text under 14 px: {', '.join(small[:6])}"] if small else []


class Auditor:
    """Visits pages in one context and keeps what axe-core found on each."""

    def __init__(self, page, base: str, label: str, shots=None):
        self.page, self.base, self.label, self.shots = page, base, label, shots
        self.found: dict[str, list[str]] = {}
        self.visited: list[str] = []

    def check(self, name: str) -> None:
        expect(self.page.locator("main h1").first).to_be_visible()
        self.visited.append(name)
        problems = serious_violations(self.page) + small_chart_text(self.page)
        if self.shots is not None and name in ("dashboard /me", "analytics dashboard", "catalog"):
            shoot(self.page, self.shots, "a11y-" + name.replace(" ", "-").replace("/", ""), device_of(self.page))
        if problems:
            self.found[f"{self.label} {name} ({self.page.url})"] = problems

    def visit(self, name: str, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        self.check(name)


def _person(browser, base: str, username: str, device: str):
    ctx = browser.new_context(**(PHONE if device == "phone" else DESKTOP), locale="zh-CN")
    page = ctx.new_page()
    login(page, base, username)
    return ctx, page


def _switch_locale(page, to_english: bool) -> None:
    page.goto(page.url.split("#")[0])
    if page.viewport_size["width"] < 600:
        page.get_by_role("button", name=re.compile("菜单|Menu")).click()
    page.locator("nav button[lang]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en" if to_english else "zh-CN")


def _member_pages(audit: Auditor, english: bool = False) -> None:
    page = audit.page
    audit.visit("home", "/")
    audit.visit("catalog", "/learn/")
    page.goto(audit.base + "/")
    page.locator("section.my-series a[href*='/learn/courses/']").first.click()
    page.wait_for_url(re.compile(r".*/learn/courses/\d+$"))
    audit.check("course")
    # Chinese data inside the English interface is marked as Chinese (screen readers switch voice)
    expect(page.locator("main h1")).to_have_attribute("lang", "zh-CN")
    page.locator(".lesson-list a").first.click()
    page.wait_for_url(re.compile(r".*/learn/lessons/\d+$"))
    wait_for_playlists(page)
    audit.check("lesson")
    audit.visit("dashboard /me", "/me/")
    audit.visit("search results", "/search/?q=" + "党员教育培训")
    if english:
        return
    expect(page.locator(".search-results > li").first).to_be_visible()
    page.locator(".search-results a[href*='/readings/']").first.click()
    page.wait_for_url(re.compile(r".*/readings/\d+.*"))
    audit.check("reading")
    audit.visit("notes", "/me/notes")
    audit.visit("notifications", "/notifications")
    audit.visit("points", "/me/points")


def _report(audits: list[Auditor]) -> None:
    found = {k: v for a in audits for k, v in a.found.items()}
    print("\naxe-core checked: " + "; ".join(f"{a.label}: {', '.join(a.visited)}" for a in audits))
    assert not found, "serious or critical axe-core violations:\n" + "\n".join(
        f"- {page}:\n    " + "\n    ".join(problems) for page, problems in found.items())


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_member_pages_have_no_serious_violations(browser, live_server, screenshot_dir, device):
    base = live_server["url"]
    ctx, page = _person(browser, base, "member", device)
    zh, en = Auditor(page, base, f"member zh {device}", screenshot_dir), Auditor(page, base, f"member en {device}")
    try:
        _member_pages(zh)
        _switch_locale(page, to_english=True)
        try:
            _member_pages(en, english=True)
        finally:
            _switch_locale(page, to_english=False)  # the choice is remembered on the account: put it back
    finally:
        ctx.close()
    _report([zh, en])


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_admin_and_lecturer_pages_have_no_serious_violations(browser, live_server, screenshot_dir, device):
    base = live_server["url"]
    audits = []
    ctx, page = _person(browser, base, "orgadmin", device)
    try:
        audit = Auditor(page, base, f"orgadmin {device}", screenshot_dir)
        audits.append(audit)
        # The branch dashboard, as its officers see it (the demo's secretary is appointed by another test, in
        # tests/browser/test_e2e_branch_meetings.py; the organisation's admin sees the same page and its forms)
        audit.visit("branch list", "/branch/")
        page.get_by_role("link", name=re.compile("东山村党支部")).first.click()
        page.wait_for_url(re.compile(r".*/branch/\d+$"))
        audit.check("branch dashboard")
        audit.visit("analytics dashboard", "/analytics/")
        audit.visit("announcements", "/notifications/announcements")
        audit.visit("users", "/admin/members")
        _switch_locale(page, to_english=True)
        try:
            audit.visit("analytics dashboard en", "/analytics/")
        finally:
            _switch_locale(page, to_english=False)
    finally:
        ctx.close()

    ctx, page = _person(browser, base, "admin", device)  # publishing is the site admin's
    try:
        audit = Auditor(page, base, f"admin {device}")
        audits.append(audit)
        audit.visit("publishing review", "/publish/review")
        audit.visit("series editor", "/publish/series/new")
    finally:
        ctx.close()

    ctx, page = _person(browser, base, "lecturer", device)
    try:
        audit = Auditor(page, base, f"lecturer {device}")
        audits.append(audit)
        audit.visit("studio", "/studio/")
        page.get_by_role("link", name=MEMBER_COURSE).first.click()
        page.wait_for_url(re.compile(r".*/studio/courses/\d+$"))
        audit.check("studio course")
    finally:
        ctx.close()
    _report(audits)


LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"


def lighthouse_accessibility(url: str, cookie: str, out_dir) -> tuple[float, list[str]]:
    """Lighthouse's accessibility score of a page (0..1) and its failed audits, run by its CLI in Debian's
    Chromium (CHROME_PATH; Lighthouse never fetches a browser of its own), signed in by the session cookie."""
    import json
    import subprocess

    if not LIGHTHOUSE.exists():
        pytest.fail(f"{LIGHTHOUSE} missing: `make assets` installs Lighthouse from the npm registry")
    report = out_dir / "lighthouse.json"
    env = dict(os.environ, CHROME_PATH=CHROMIUM)
    run = subprocess.run([str(LIGHTHOUSE), url, "--only-categories=accessibility", "--output=json",
                          f"--output-path={report}", "--quiet", "--form-factor=desktop", "--screenEmulation.disabled",
                          "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
                          "--extra-headers=" + json.dumps({"Cookie": cookie})],
                         env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(report.read_text())
    assert result["finalDisplayedUrl"] == url, ("not the signed-in page", url, result["finalDisplayedUrl"])
    category = result["categories"]["accessibility"]
    failed = []
    for ref in category["auditRefs"]:
        audit = result["audits"][ref["id"]]
        if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
            items = (audit.get("details") or {}).get("items") or []
            targets = [str((i.get("node") or {}).get("selector", "")) for i in items][:5]
            failed.append(f"{ref['id']} (weight {ref['weight']}): {', '.join(targets)}")
    return category["score"], failed


def test_lighthouse_accessibility_score_of_representative_pages(browser, live_server, tmp_path):
    base = live_server["url"]
    scores: dict[str, float] = {}
    failures: dict[str, list[str]] = {}

    def measure(username: str, pages: dict[str, str]) -> None:
        ctx, page = _person(browser, base, username, "desktop")
        try:
            for name, path in pages.items():
                page.goto(base + path)
                if name == "lesson":
                    page.locator("section.my-series a[href*='/learn/courses/']").first.click()
                    page.locator(".lesson-list a").first.click()
                    page.wait_for_url(re.compile(r".*/learn/lessons/\d+$"))
                cookie = "; ".join(f"{c['name']}={c['value']}" for c in ctx.cookies(base))
                scores[name], failed = lighthouse_accessibility(page.url, cookie, tmp_path)
                if failed:
                    print(f"\nLighthouse on {name}: " + "; ".join(failed))
                if scores[name] < 0.95:
                    failures[name] = failed
        finally:
            ctx.close()

    measure("member", {"member home": "/", "catalog": "/learn/", "lesson": "/"})
    measure("orgadmin", {"analytics dashboard": "/analytics/"})
    print("\nLighthouse accessibility: " + ", ".join(f"{k} {v:.2f}" for k, v in scores.items()))
    assert not failures, "Lighthouse accessibility below 0.95:\n" + "\n".join(
        f"- {name} {scores[name]:.2f}: " + "; ".join(f) for name, f in failures.items())
