"""Sign-in through the organisation's account in a real browser, the whole redirect flow: the sign-in page (at
360 px) shows a button per provider, configured by environment as a deployment would; a member goes to the
university's CAS server (django-mama-cas), signs in on its page and comes back signed in; another goes to the
OpenID provider (Authlib) and comes back matched by their employee number."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import serve, shoot
from tests.providers.fixtures import PROVIDER_PASSWORD, cas_server, oidc_provider  # noqa: F401 - fixtures

SMALL_PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
               "device_scale_factor": 2}


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory, cas_server, oidc_provider):  # noqa: F811
    env = {"ELEARN_TWO_FACTOR_ENFORCED": "0", "ELEARN_SSO_PROVIDERS": "uni,corp",
           "ELEARN_SSO_UNI_KIND": "cas", "ELEARN_SSO_UNI_LABEL": "大学统一身份认证",
           "ELEARN_SSO_UNI_SERVER_URL": cas_server, "ELEARN_SSO_UNI_CAS_VERSION": "3",
           "ELEARN_SSO_CORP_KIND": "oidc", "ELEARN_SSO_CORP_LABEL": "单位账号",
           "ELEARN_SSO_CORP_ISSUER": oidc_provider["issuer"], "ELEARN_SSO_CORP_CLIENT_ID": oidc_provider["client_id"],
           "ELEARN_SSO_CORP_CLIENT_SECRET": oidc_provider["client_secret"],
           "ELEARN_SSO_CORP_ATTRIBUTE": "employeeNumber"}
    for server in serve(tmp_path_factory, **env):
        elearn = str(Path(sys.executable).parent / "elearn")
        for username, name in (("zhang.san", "张三"), ("E1003", "王五")):
            subprocess.run([elearn, "create-user", username, "--name", name, "--org", "1",
                            "--password", "Member-pass-2024"], env=server["env"], check=True, capture_output=True)
        yield server


@pytest.fixture
def small_phone(browser):
    ctx = browser.new_context(**SMALL_PHONE, locale="zh-CN")
    yield ctx
    ctx.close()


def _signed_in(page) -> bool:
    return page.locator("nav button:has-text('退出')").count() == 1


def test_members_sign_in_through_cas_and_openid_connect(sso_server, oidc_provider, small_phone,  # noqa: F811
                                                         screenshot_dir):
    base = sso_server["url"]
    page = small_phone.new_page()
    page.goto(base + "/auth/login")
    cas_button = page.get_by_role("link", name="通过大学统一身份认证登录")
    oidc_button = page.get_by_role("link", name="通过单位账号登录")
    assert cas_button.is_visible() and oidc_button.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    shoot(page, screenshot_dir, "sso-login", "phone360")

    cas_button.click()
    page.wait_for_url("**/cas/login**")
    page.fill("input[name=username]", "zhang.san")
    page.fill("input[name=password]", PROVIDER_PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(base + "/**")
    assert "/auth/" not in page.url and _signed_in(page)
    page.goto(base + "/account/sign-in")
    assert "已关联" in page.inner_text("main")
    shoot(page, screenshot_dir, "sso-account", "phone360")
    page.click("button.nav-toggle")  # the menu, folded on a phone
    page.click("details.account-menu summary")
    page.click("nav button:has-text('退出')")
    page.wait_for_url("**/auth/login")  # the sign-out's own redirect; a goto now would abort it
    assert not _signed_in(page)

    page.get_by_role("link", name="通过单位账号登录").click()
    page.wait_for_url(oidc_provider["issuer"] + "/authorize**")
    page.fill("input[name=username]", "wang.wu")
    page.fill("input[name=password]", PROVIDER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/**")
    assert "/auth/" not in page.url and _signed_in(page)


def test_an_unknown_account_comes_back_to_a_clear_message(sso_server, small_phone, screenshot_dir):
    base = sso_server["url"]
    page = small_phone.new_page()
    page.goto(base + "/auth/login")
    page.get_by_role("link", name="通过大学统一身份认证登录").click()
    page.wait_for_url("**/cas/login**")
    page.fill("input[name=username]", "stranger")
    page.fill("input[name=password]", PROVIDER_PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(base + "/auth/sso/**")
    assert "不对应" in page.inner_text("main") and not _signed_in(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shoot(page, screenshot_dir, "sso-unknown", "phone360")

