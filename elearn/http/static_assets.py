"""Static files for weak networks: cache-busted URLs and compressed answers, in one place for every template.

``url_for('static', filename=…)`` gets ``?v=<content hash>`` (``app.url_defaults``): the hash of a file is computed
once per process (again only when the file changes on disk). A request whose ``v`` is the file's current hash is
answered ``Cache-Control: public, max-age=<a year>, immutable``; without it, or with any other ``v`` (an old page,
a forged value), the file is still served but with a short lifetime. Text assets (js, css, svg, webmanifest …) are
sent gzip-compressed to clients that accept gzip, compressed once per file per process, always with
``Vary: Accept-Encoding``. Behind nginx, deploy/nginx/elearn.conf serves /static/ with the same rules.
"""
from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, abort, current_app, request, send_from_directory
from werkzeug.security import safe_join

from elearn.policy import STATIC_ASSETS


@dataclass
class StaticAsset:
    """One file of the static folder as this process knows it: its version and, once asked for, its gzip."""

    path: str
    mtime_ns: int
    size: int
    version: str
    compressible: bool
    _gzip: bytes | None = field(default=None, repr=False)
    _gzip_done: bool = False

    def gzipped(self) -> bytes | None:
        """The compressed content, or None when compressing does not make it smaller (computed once)."""
        if not self._gzip_done:
            with open(self.path, "rb") as fh:
                raw = fh.read()
            # mtime=0: the same bytes on every node and every start (no timestamp in the header).
            packed = gzip.compress(raw, compresslevel=STATIC_ASSETS.gzip_level, mtime=0)
            self._gzip = packed if len(packed) < len(raw) else None
            self._gzip_done = True
        return self._gzip


class StaticAssets:
    """The static folder's files by name (relative to the folder), each hashed and compressed at most once."""

    def __init__(self, folder: str):
        self.folder = folder
        self._known: dict[str, StaticAsset] = {}
        self._lock = threading.Lock()

    def get(self, filename: str) -> StaticAsset | None:
        """The asset named ``filename``, or None when it is not a file inside the folder (``..``, absolute paths
        and missing files alike)."""
        path = safe_join(self.folder, filename)
        if path is None:
            return None
        try:
            stat = os.stat(path)
        except OSError:
            return None
        if not os.path.isfile(path):
            return None
        known = self._known.get(filename)
        if known is not None and known.mtime_ns == stat.st_mtime_ns and known.size == stat.st_size:
            return known
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 16), b""):
                digest.update(chunk)
        asset = StaticAsset(path=path, mtime_ns=stat.st_mtime_ns, size=stat.st_size,
                            version=digest.hexdigest()[:STATIC_ASSETS.version_chars],
                            compressible=filename.lower().endswith(STATIC_ASSETS.compressible_suffixes)
                            and stat.st_size <= STATIC_ASSETS.compress_max_bytes)
        with self._lock:
            self._known[filename] = asset
        return asset


def _assets() -> StaticAssets:
    return current_app.extensions["elearn_static_assets"]


def version_of(filename: str) -> str | None:
    """The ``v`` of a static file's current content, None when there is no such file."""
    asset = _assets().get(filename)
    return asset.version if asset is not None else None


def _accepts_gzip() -> bool:
    return request.accept_encodings.quality("gzip") > 0


def serve_static(filename: str) -> Response:
    """A file of the static folder: immutable when asked for by its current version, gzip when accepted."""
    asset = _assets().get(filename)
    if asset is None:
        abort(404)
    current = request.args.get("v") == asset.version
    max_age = STATIC_ASSETS.versioned_max_age_s if current else STATIC_ASSETS.unversioned_max_age_s
    packed = asset.gzipped() if asset.compressible and _accepts_gzip() else None
    if packed is not None:
        response = Response(packed, mimetype=mimetypes.guess_type(filename)[0] or "application/octet-stream")
        response.headers["Content-Encoding"] = "gzip"
        response.set_etag(f"{asset.version}-gzip")
        response.cache_control.public = True
        response.cache_control.max_age = max_age
        response.make_conditional(request)
    else:
        response = send_from_directory(_assets().folder, filename, max_age=max_age, etag=asset.version)
    if current:
        response.cache_control.immutable = True
    if asset.compressible:
        response.vary.add("Accept-Encoding")
    return response


def _add_version(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = version_of(values["filename"])
        if version is not None:
            values["v"] = version


def init_app(app: Flask) -> None:
    """Version every ``url_for('static', …)``, answer /static/ with :func:`serve_static` and give templates
    ``pwa_theme_colour``."""
    if app.static_folder is None:
        return
    app.extensions["elearn_static_assets"] = StaticAssets(app.static_folder)
    app.url_defaults(_add_version)
    app.view_functions["static"] = serve_static
    # The browser's colour for the installed site's bar (base.html), as in the manifest.
    app.context_processor(lambda: {"pwa_theme_colour": STATIC_ASSETS.theme_colour})
