"""A member's own file as a download: an attachment named for them, never stored by a cache on the way."""
from __future__ import annotations

from flask import Response


def private_download(data: bytes, mimetype: str, filename: str) -> Response:
    """``data`` as an attachment called ``filename`` (ASCII), ``Cache-Control: private, no-store``."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
