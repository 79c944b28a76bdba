"""Demo logins work in a phone-sized and a desktop-sized window; the layout fits a 360-px screen."""
import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_demo_member_logs_in_and_sees_home(request, live_server, screenshot_dir, device):
    ctx = request.getfixturevalue(device)
    page = ctx.new_page()
    page.goto(live_server["url"] + "/auth/login")
    page.screenshot(path=str(screenshot_dir / f"login-{device}.png"), full_page=True)
    login(page, live_server["url"], "member")
    assert "张党员" in page.inner_text("main")
    assert "东山村党支部" in page.inner_text("main")
    # Nothing wider than the viewport: no horizontal scrolling on a phone.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.screenshot(path=str(screenshot_dir / f"home-{device}.png"), full_page=True)


def test_phone_menu_toggles_and_logout(live_server, phone, screenshot_dir):
    page = phone.new_page()
    page.set_viewport_size({"width": 360, "height": 740})
    login(page, live_server["url"], "orgadmin")
    assert not page.is_visible("nav.nav")
    menu = page.get_by_role("button", name="菜单")
    assert menu.get_attribute("aria-expanded") == "false"
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    assert page.is_visible("text=党员管理")
    assert page.get_attribute("nav a[aria-current=page]", "href") == "/"  # the home page is the current one
    page.screenshot(path=str(screenshot_dir / "menu-phone-360.png"))
    page.click("text=党员管理")
    assert "张党员" in page.inner_text("main") and "吴社区" not in page.inner_text("main")
    page.screenshot(path=str(screenshot_dir / "members-phone-360.png"), full_page=True)
    page.get_by_label("菜单").click()
    assert page.get_attribute("nav a[aria-current=page]", "href").endswith("/members")
    page.click("details.account-menu summary")  # password, devices, tokens and sign-out live in the account menu
    page.click("nav >> text=退出")
    page.wait_for_url("**/auth/login")


def test_wrong_password_message(live_server, desktop):
    page = desktop.new_page()
    page.goto(live_server["url"] + "/auth/login")
    page.fill("#username", "member")
    page.fill("#password", "nope-wrong-1")
    page.click("main button[type=submit]")
    assert "用户名或密码不正确" in page.inner_text("main")
