"""English at 390 px: every demo role (member, secretary, org admin, lecturer) switches the interface to English
and visits the pages of their navigation on a phone; no page is wider than the screen (a wide table scrolls
inside its own container, the page does not). The offending elements are named when one is."""
from __future__ import annotations

import pytest

from tests.browser.conftest import login, shoot

pytestmark = pytest.mark.browser

WIDTH = 390
PHONE390 = {"viewport": {"width": WIDTH, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
ROLES = ("member", "secretary", "orgadmin", "lecturer")
EXTRA = ("/me/", "/me/notes", "/notifications", "/notifications/settings", "/notifications/announcements/new",
         "/auth/password")
SHOTS = ("/me/", "/roster/", "/notifications/announcements")  # pages that overflowed once, and a table
MAX_PAGES = 24  # per role: the navigation's pages come first

# Elements whose right edge is past the viewport, outside any container that scrolls or clips them.
# Compared with the phone's width, not window.innerWidth: a mobile browser widens its layout viewport to fit
# content that overflows (shrinking the page to fit), so innerWidth grows with the fault it should reveal.
OFFENDERS = """(w) => {
  const out = [];
  const clipped = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; }
    return false; };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > w + 0.5 && !clipped(el)) {
      const names = typeof el.className === 'string' ? el.className.trim() : '';
      const cls = names ? '.' + names.split(/\\s+/).join('.') : '';
      out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls} right=${Math.round(r.right)} `
               + JSON.stringify((el.innerText || '').slice(0, 40)));
    }
  }
  return out.slice(0, 8);
}"""
SWITCH = """async (locale) => {
  const body = new FormData(); body.append('csrf_token', document.querySelector('meta[name=csrf-token]').content);
  await fetch('/auth/locale/' + locale, {method: 'POST', body});
}"""


def _links(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(a => a.getAttribute('href'))")


def _pages(page, base: str) -> list[str]:
    hrefs = _links(page, "#site-nav a[href^='/']")
    page.goto(base + "/learn/")  # and one course and one lesson of the catalogue, the pages members use most
    hrefs += _links(page, "main a[href^='/learn/courses/']")[:1]
    if hrefs[-1:] and hrefs[-1].startswith("/learn/courses/"):
        page.goto(base + hrefs[-1])
        hrefs += _links(page, "main a[href*='/lessons/']")[:1]
    seen: list[str] = []
    for href in [*hrefs, *EXTRA]:
        path = href.split("#")[0]
        if path and path not in seen and not path.startswith(("/auth/logout", "/static")):
            seen.append(path)
    return seen[:MAX_PAGES]


def test_english_pages_fit_a_390px_phone_for_every_role(browser, live_server, screenshot_dir):
    base = live_server["url"]
    wide: list[str] = []
    for role in ROLES:
        ctx = browser.new_context(**PHONE390, locale="en-US")
        page = ctx.new_page()
        login(page, base, role)
        page.evaluate(SWITCH, "en")  # remembered on the account: switched back below
        try:
            for path in _pages(page, base):
                answer = page.goto(base + path)
                assert answer is not None and answer.status < 500, f"{role} {path}: {answer and answer.status}"
                assert page.evaluate("document.documentElement.lang").startswith("en"), f"{role} {path}"
                if path in SHOTS:
                    shoot(page, screenshot_dir, f"91-english-{role}" + path.replace("/", "-").rstrip("-"), "phone390")
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > WIDTH:
                    wide.append(f"{role} {path}: {width}px — " + "; ".join(page.evaluate(OFFENDERS, WIDTH)))
                    shoot(page, screenshot_dir, "90-english-wide-" + role + path.replace("/", "-").rstrip("-"),
                          "phone390")
        finally:
            page.evaluate(SWITCH, "zh")  # the other browser tests expect the demo users in Chinese
            ctx.close()
    assert not wide, "pages wider than a 390-px phone in English:\n" + "\n".join(wide)
