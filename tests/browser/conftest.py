"""Browser tests: the real app under gunicorn on loopback, driven by Playwright in Debian's Chromium.

Screenshots go to ``$ELEARN_SCREENSHOT_DIR`` (default ``test-artifacts/screenshots``); the path is printed.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("ELEARN_CHROMIUM", "/usr/bin/chromium")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def screenshot_dir():
    path = Path(os.environ.get("ELEARN_SCREENSHOT_DIR", ROOT / "test-artifacts" / "screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser screenshots: {path}")
    return path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """gunicorn serving a fresh instance with demo data, and the job worker; yields the base URL.

    ``ELEARN_BROWSER_BASE=http://host:port`` (with ``ELEARN_INSTANCE`` naming its instance) reuses a server
    that is already running instead — handy while writing a test; the tests change its data.
    The demo's admins sign in with the password alone here (ELEARN_TWO_FACTOR_ENFORCED=0); the test of
    two-factor sign-in starts a server of its own with :func:`serve`.
    """
    if os.environ.get("ELEARN_BROWSER_BASE"):
        yield {"url": os.environ["ELEARN_BROWSER_BASE"].rstrip("/"),
               "instance": Path(os.environ.get("ELEARN_INSTANCE", ".")), "env": dict(os.environ)}
        return
    yield from serve(tmp_path_factory, ELEARN_TWO_FACTOR_ENFORCED="0")


def serve(tmp_path_factory, **extra_env: str):
    """Start gunicorn and the worker on a fresh instance with demo data (``extra_env``: settings of this
    server); yields what :func:`live_server` yields, and stops both afterwards."""
    instance = tmp_path_factory.mktemp("browser-instance")
    env = dict(os.environ, ELEARN_INSTANCE=str(instance), ELEARN_SECRET_KEY="browser-tests-only", **extra_env)
    env.pop("DATABASE_URL_TEST", None)
    env.pop("DATABASE_URL", None)
    bindir = Path(sys.executable).parent
    elearn = str(bindir / "elearn")
    subprocess.run([elearn, "init-db"], env=env, check=True, capture_output=True)
    # The schema comes from the migrations alone, exactly as `make run` builds it.
    demo = subprocess.run([elearn, "demo"], env=env, capture_output=True, text=True)
    if demo.returncode:
        raise RuntimeError("`elearn demo` failed:\n" + demo.stdout[-2000:] + demo.stderr[-4000:])
    port = _free_port()
    log = open(instance / "server.log", "w")
    server = subprocess.Popen([str(bindir / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                               "--threads", "4", "elearn:create_app()"], env=env, stdout=log, stderr=log, cwd=ROOT)
    worker = subprocess.Popen([elearn, "worker", "--workers", "1"], env=env, stdout=log, stderr=log, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                worker.kill()
                raise RuntimeError("gunicorn did not start: "
                                   + (instance / "server.log").read_text()[-2000:]) from None
            time.sleep(0.3)
    yield {"url": base, "instance": instance, "env": env}
    for p in (server, worker):
        p.terminate()
    for p in (server, worker):
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make browserdeps` installs Debian's package")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"])
        yield b
        b.close()


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(**PHONE, locale="zh-CN")
    yield ctx
    ctx.close()


@pytest.fixture
def desktop(browser):
    ctx = browser.new_context(**DESKTOP, locale="zh-CN")
    yield ctx
    ctx.close()


def login(page, base: str, username: str, password: str = "Demo2024pass") -> None:
    page.goto(base + "/auth/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/")


def shoot(page, screenshot_dir: Path, name: str, device: str, *, full_page: bool = True) -> Path:
    """Save a screenshot as ``<name>-<device>.png`` in the screenshot folder and return its path."""
    path = screenshot_dir / f"{name}-{device}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def device_of(page) -> str:
    """``phone`` or ``desktop``, from the page's viewport width."""
    return "phone" if page.viewport_size["width"] < 600 else "desktop"


def wait_for_playlists(page, timeout: int = 30_000) -> None:
    """The lesson player has read the HLS playlists (its quality menu is filled). No segment is fetched before
    play is pressed, so this, not the video's readyState, is what a page that has not played yet reaches."""
    page.wait_for_function("() => document.querySelector('#player [data-role=quality]').options.length > 1",
                           timeout=timeout)
