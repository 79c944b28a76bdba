"""The installable site (PWA): the web app manifest, the service worker at the site's root (scope /) and the
offline page it shows for a page that cannot be loaded without a network.

The service worker (static/js/service-worker.js, served here with its settings in front) keeps the application
shell (policy.STATIC_ASSETS.shell, by their versioned URLs) and the offline page, the readings a member saved
for offline reading (static/js/offline.js puts them in their own cache), and any versioned static file once
used. It never stores an API answer, a page that was not saved, HLS playlists, keys or segments."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, url_for
from flask_babel import gettext as _

from elearn.policy import STATIC_ASSETS

bp = Blueprint("pwa", __name__)

SERVICE_WORKER = "js/service-worker.js"


@bp.route("/manifest.webmanifest")
def manifest():
    """The web app manifest: the name, zh-CN, standalone from the home page, theme colour and icons."""
    name = _("党员在线课堂")
    body = {
        "name": name, "short_name": name, "lang": "zh-CN", "dir": "ltr",
        "description": _("党员在线课堂：视频课程、学习资料、学时记录与组织生活"),
        "id": "/", "start_url": "/", "scope": "/", "display": "standalone",
        "theme_color": STATIC_ASSETS.theme_colour, "background_color": STATIC_ASSETS.background_colour,
        "icons": [
            {"src": url_for("static", filename="favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "maskable"},
        ],
    }
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.cache_control.public = True
    response.cache_control.max_age = STATIC_ASSETS.unversioned_max_age_s
    return response


@bp.route("/sw.js")
def service_worker():
    """The service worker, at the root so that its scope is the whole site. Its settings (the shell's versioned
    URLs and the cache name derived from them) come first; browsers look for a new one on every visit."""
    shell = [url_for("static", filename=name) for name in STATIC_ASSETS.shell] + [url_for("pwa.offline")]
    code = (Path(current_app.static_folder or "") / SERVICE_WORKER).read_text(encoding="utf-8")
    version = hashlib.sha256("\n".join([*shell, code]).encode()).hexdigest()[:STATIC_ASSETS.version_chars]
    settings = {"version": version, "shell": shell, "offline": url_for("pwa.offline")}
    body = f"self.ELEARN_SW = {json.dumps(settings)};\n{code}"
    response = Response(body, mimetype="text/javascript")
    response.cache_control.no_cache = True
    return response


@bp.route("/offline")
def offline():
    """Shown by the service worker for a page that cannot be loaded offline: what still works (the readings
    saved for offline reading, listed from this device's storage by static/js/offline.js)."""
    return render_template("site/offline.html")
