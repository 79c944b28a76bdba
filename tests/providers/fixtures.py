"""Real sign-in providers on loopback, each a process of its own: a CAS server (django-mama-cas, in the venv
`make services` builds) and an OpenID provider (tests/providers/oidc_provider.py, Authlib's server side).

Loaded as a pytest plugin by tests/auth/conftest.py and tests/browser/test_e2e_sso.py. The users they know are
``PROVIDER_USERS``; each test makes the members of ours it needs."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CAS_PYTHON = ROOT / ".venv-services" / "mama-cas" / "bin" / "python"
PROVIDER_PASSWORD = "provider-Pw-1"

# The people the providers know: a member matched by username, one by e-mail, one by employee number (an
# attribute matched against usernames), one nobody here knows.
PROVIDER_USERS = [
    {"username": "zhang.san", "sub": "sub-zhang", "email": "zhang.san@uni.example.cn", "employeeNumber": "E1001",
     "name": "张三"},
    {"username": "li.si", "sub": "sub-li", "email": "lisi@uni.example.cn", "employeeNumber": "E1002"},
    {"username": "stranger", "sub": "sub-stranger", "email": "stranger@elsewhere.example",
     "employeeNumber": "E9999"},
    {"username": "wang.wu", "sub": "sub-wang", "email": "wangwu@uni.example.cn", "employeeNumber": "E1003"},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"{what} did not start:\n" + log.read_text()[-3000:]) from None
            time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def cas_server(tmp_path_factory):
    """A django-mama-cas server on loopback; yields its base URL (…/cas/)."""
    if not CAS_PYTHON.exists():
        pytest.fail(f"{CAS_PYTHON} missing: `make services` builds the CAS server's venv")
    folder = tmp_path_factory.mktemp("cas")
    config = folder / "config.json"
    config.write_text(json.dumps({
        "database": str(folder / "cas.sqlite3"),
        "service_pattern": r"^http://(localhost|127\.0\.0\.1)(:\d+)?/auth/sso/",
        "users": [{**u, "password": PROVIDER_PASSWORD} for u in PROVIDER_USERS],
    }))
    port = free_port()
    log = folder / "cas.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(CAS_PYTHON), str(ROOT / "tests/providers/cas_server/serve.py"), str(config),
                                 str(port)], cwd=ROOT / "tests/providers/cas_server", stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}/cas/"
    _wait(base + "login", proc, log, "the CAS server")
    yield base
    _stop(proc)


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """The Authlib OpenID provider on loopback; yields {"issuer", "client_id", "client_secret"}."""
    folder = tmp_path_factory.mktemp("oidc")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    info = {"issuer": issuer, "client_id": "elearn-test", "client_secret": "oidc-client-secret"}
    config = folder / "config.json"
    config.write_text(json.dumps({
        "issuer": issuer,
        "clients": [{"client_id": info["client_id"], "client_secret": info["client_secret"],
                     "redirect_prefixes": ["http://localhost/auth/sso/", "http://127.0.0.1:"]}],
        "users": [{**u, "password": PROVIDER_PASSWORD} for u in PROVIDER_USERS],
    }))
    log = folder / "oidc.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "tests.providers.oidc_provider", str(config), str(port)],
                                cwd=ROOT, stdout=out, stderr=out)
    _wait(issuer + "/.well-known/openid-configuration", proc, log, "the OpenID provider")
    yield info
    _stop(proc)


@pytest.fixture
def sso_app_config(cas_server, oidc_provider):
    """App settings naming both providers several ways (CAS 3 and 2, OIDC by e-mail and by employee number) and
    providers that do not answer, or not in their protocol."""
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    oidc = {"kind": "oidc", "issuer": oidc_provider["issuer"], "client_id": oidc_provider["client_id"],
            "client_secret": oidc_provider["client_secret"]}
    return {"ELEARN_SSO_PROVIDERS": [
        {"id": "uni", "kind": "cas", "label": "大学统一身份认证", "server_url": cas_server},
        {"id": "uni2", "kind": "cas", "cas_version": "2", "label": "CAS 2", "server_url": cas_server},
        {"id": "corp", "label": "单位账号", "match_by": "email", **oidc},
        {"id": "staff", "label": "工号登录", "attribute": "employeeNumber", **oidc},
        {"id": "casdown", "kind": "cas", "label": "停机的 CAS", "server_url": down + "/cas/"},
        {"id": "oidcdown", "kind": "oidc", "label": "停机的 OIDC", "issuer": down, "client_id": "x"},
        # A server that answers, but not in CAS: the OpenID provider's 404 page.
        {"id": "casjunk", "kind": "cas", "label": "配错的 CAS", "server_url": oidc_provider["issuer"] + "/nocas/"},
    ]}


# -- signing in at the providers as a person would (their own forms), without a browser -----------------------

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def cas_sign_in(login_url: str, username: str, password: str = PROVIDER_PASSWORD) -> str:
    """Sign in on the CAS server's login page that ``login_url`` opens; the URL it sends the browser back to
    (the service with its ticket)."""
    with requests.Session() as browser:
        page = browser.get(login_url, timeout=10)
        token = _CSRF.search(page.text).group(1)
        answer = browser.post(page.url, data={"csrfmiddlewaretoken": token, "username": username,
                                              "password": password}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[-500:]
    return answer.headers["Location"]


def oidc_sign_in(authorize_url: str, username: str, password: str = PROVIDER_PASSWORD) -> str:
    """Sign in on the OpenID provider's form at ``authorize_url``; the redirect back (with code and state)."""
    answer = requests.post(authorize_url, data={"username": username, "password": password},
                           allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[-500:]
    return urljoin(authorize_url, answer.headers["Location"])
