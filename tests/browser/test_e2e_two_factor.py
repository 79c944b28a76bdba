"""Two-factor sign-in in a real browser, on a server that requires it of admins: the demo's site admin signs in,
is sent to enrolment, "scans" (the test reads the secret shown on the page and computes the code with pyotp, as
the phone would), finishes, signs out, then signs in with password and code; a wrong code gets a clear
message. The enrolment page is photographed at 360 px."""
from __future__ import annotations

import time

import pyotp
import pytest

from tests.browser.conftest import serve, shoot

PASSWORD = "Demo2024pass"


@pytest.fixture(scope="module")
def server_2fa(tmp_path_factory):
    yield from serve(tmp_path_factory, ELEARN_TWO_FACTOR_ENFORCED="1")


def _next_step_code(secret: str, after_step: int) -> str:
    """The code of the first time step after ``after_step`` (waiting for it): the step of a code already used is
    refused as a replay."""
    totp = pyotp.TOTP(secret)
    while int(time.time()) // totp.interval <= after_step:
        time.sleep(0.5)
    return totp.now()


def _password_step(page, base: str) -> None:
    page.goto(base + "/auth/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")


def test_a_site_admin_enrols_and_then_signs_in_with_password_and_code(server_2fa, phone, screenshot_dir):
    base = server_2fa["url"]
    page = phone.new_page()
    page.set_viewport_size({"width": 360, "height": 780})
    _password_step(page, base)
    page.wait_for_url(base + "/auth/two-factor/enrol")
    # Nothing else opens before enrolment.
    page.goto(base + "/admin/members")
    page.wait_for_url(base + "/auth/two-factor/enrol")
    assert page.is_visible("svg.qr-code")
    qr = page.locator("svg.qr-code").bounding_box()
    assert qr["width"] >= 150 and qr["x"] >= 0 and qr["x"] + qr["width"] <= 360
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    shoot(page, screenshot_dir, "two-factor-enrol-360", "phone")
    secret = page.inner_text("#totp-secret").replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.fill("#code", "000000" if totp.now() != "000000" else "111111")
    page.click("main button[type=submit]:has-text('完成启用')")
    assert "验证码不正确" in page.inner_text("main")
    enrolled_step = int(time.time()) // totp.interval
    page.fill("#code", totp.now())
    page.click("main button[type=submit]:has-text('完成启用')")
    page.wait_for_selector("#recovery-codes")
    assert page.locator("#recovery-codes li").count() == 10
    shoot(page, screenshot_dir, "two-factor-codes-360", "phone")
    page.click("text=我已保存，继续")
    page.wait_for_url(base + "/")
    page.get_by_label("菜单").click()
    page.click("details.account-menu summary")
    page.click("nav >> text=退出")
    page.wait_for_url("**/auth/login")

    _password_step(page, base)
    page.wait_for_url(base + "/auth/two-factor")
    wrong = f"{(int(totp.now()) + 1) % 10**6:06d}"
    page.fill("#code", wrong)
    page.click("main button[type=submit]")
    assert "验证码不正确或已使用过" in page.inner_text("main")
    shoot(page, screenshot_dir, "two-factor-wrong-code-360", "phone")
    page.fill("#code", _next_step_code(secret, enrolled_step))
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/")
    assert "上次登录：" in page.inner_text("main")
