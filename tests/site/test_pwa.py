"""The installable site (elearn.site.pwa_views): the manifest, the service worker at the root and the offline
page, all open to anyone (the browser fetches the manifest without cookies), and linked from every page."""
from __future__ import annotations

import json
import re

from PIL import Image

from tests.http.test_static_assets import ROOT, _get


def test_every_page_links_the_manifest_and_registers_the_service_worker(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert '<meta name="theme-color" content="#b71c1c">' in page
    script = re.search(r'<script src="(/static/js/offline\.js\?v=\w+)" data-sw="/sw.js"[^>]*data-user=""', page)
    assert script, "offline.js with the service worker's URL, signed out"
    assert _get(client, script.group(1)).status_code == 200


def test_the_manifest_is_valid_json_with_what_installing_needs(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["name"] == "党员在线课堂" and manifest["lang"] == "zh-CN"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/" and manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    sizes = {}
    for icon in manifest["icons"]:
        served = _get(client, icon["src"])
        assert served.status_code == 200 and served.mimetype == icon["type"], icon
        assert served.cache_control.immutable, icon  # versioned like every static URL
        sizes[icon["sizes"]] = icon["src"]
    assert {"any", "192x192", "512x512"} <= set(sizes)
    for size in (192, 512):
        with Image.open(ROOT / "static" / "icons" / f"icon-{size}.png") as png:
            assert png.size == (size, size)


def test_the_service_worker_is_javascript_at_the_root_never_cached_long(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.cache_control.no_cache and "Service-Worker-Allowed" not in response.headers
    body = response.get_data(as_text=True)
    settings = json.loads(re.match(r"self\.ELEARN_SW = (\{.*?\});\n", body).group(1))
    assert settings["offline"] == "/offline" and "/offline" in settings["shell"]
    statics = [u for u in settings["shell"] if u.startswith("/static/")]
    assert any(u.startswith("/static/css/site.css?v=") for u in statics)
    assert all(_get(client, u).status_code == 200 for u in settings["shell"])
    # A new release (another shell) is another cache: the version follows the versioned URLs.
    assert re.fullmatch(r"[0-9a-f]{10}", settings["version"])
    # What it must never keep is left to the network.
    assert "/api/" not in body.split("*/", 1)[1] and "caches.open(READINGS)" in body


def test_the_offline_page_is_open_to_anyone_in_chinese(client):
    response = client.get("/offline")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "当前没有网络" in page
    assert 'id="offline-saved"' in page and "离线阅读不计学时" in page
