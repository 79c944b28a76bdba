"""Static files for weak networks (elearn.http.static_assets): every static URL a page writes carries its content
hash and is cached for a year; anything else is still served, briefly cached; text assets come gzip-compressed to
clients that accept it, decoding to the file's own bytes; nothing outside the static folder is reachable."""
from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HLS = ROOT / "static" / "vendor" / "hls.min.js"


def _get(client, url: str, **kwargs):
    """GET read to the end and closed (a file sent from disk is open until its answer is closed)."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def _static_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_link_static_files_by_their_content_hash_and_those_are_immutable(client):
    page = client.get("/auth/login").get_data(as_text=True)
    urls = _static_urls(page)
    css = next(u for u in urls if u.startswith("/static/css/site.css"))
    assert urls and all(re.search(r"\?v=[0-9a-f]{10}$", u) for u in urls), urls
    expected = hashlib.sha256((ROOT / "static/css/site.css").read_bytes()).hexdigest()[:10]
    assert css == f"/static/css/site.css?v={expected}"
    response = _get(client, css)
    assert response.status_code == 200
    assert response.cache_control.public and response.cache_control.max_age == 31_536_000
    assert response.cache_control.immutable
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # The browser's revalidation after a year: answered 304 by the version.
    again = _get(client, css, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_without_or_with_a_forged_version_a_file_is_served_but_not_immutable(client):
    for url in ("/static/css/site.css", "/static/css/site.css?v=0123456789", "/static/css/site.css?v=<x>&v=1"):
        response = _get(client, url)
        assert response.status_code == 200, url
        assert response.data == (ROOT / "static/css/site.css").read_bytes()
        assert not response.cache_control.immutable and response.cache_control.max_age == 3600, url


def test_text_assets_are_gzipped_for_clients_that_accept_it_and_decode_to_the_same_bytes(client):
    raw = HLS.read_bytes()
    plain = _get(client, "/static/vendor/hls.min.js")
    assert plain.data == raw and "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    packed = _get(client, "/static/vendor/hls.min.js", headers={"Accept-Encoding": "br, gzip;q=0.8, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert packed.headers["Content-Type"].startswith("text/javascript")
    assert gzip.decompress(packed.data) == raw and len(packed.data) < len(raw) // 2
    assert packed.headers["ETag"] != plain.headers["ETag"]  # caches keep the two encodings apart
    refused = _get(client, "/static/vendor/hls.min.js", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert refused.data == raw and "Content-Encoding" not in refused.headers
    # Images are sent as they are (already compressed), and do not vary.
    png = _get(client, "/static/icons/icon-192.png", headers={"Accept-Encoding": "gzip"})
    assert png.status_code == 200 and "Content-Encoding" not in png.headers
    assert "Accept-Encoding" not in png.headers.get("Vary", "")


def test_nothing_outside_the_static_folder_is_served(client):
    for url in ("/static/../elearn/config.py", "/static/..%2felearn%2fconfig.py", "/static/%2e%2e/setup.cfg",
                "/static//etc/passwd", "/static/css/nope.css", "/static/css"):
        response = _get(client, url, headers={"Accept-Encoding": "gzip"}, follow_redirects=True)
        assert response.status_code == 404, url
        assert b"SECRET" not in response.data
