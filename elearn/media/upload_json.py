"""The JSON side of resumable uploads shared by every page that uploads a video (the studio's lessons in
elearn.media.views, a branch's party lectures in elearn.branch.lecture_views): the request that opens an upload
and the wrapper that turns service errors into JSON answers."""
from __future__ import annotations

from functools import wraps
from typing import Annotated

from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field

from elearn.errors import ServiceError
from elearn.extensions import db
from elearn.http.errors import error_response, json_error, status_for
from elearn.http.schemas import Payload
from elearn.media import uploads


class UploadRequest(Payload):
    """Opening (or resuming) an upload."""

    filename: Annotated[str, Field(max_length=1000)] = ""
    size: Annotated[int, Field(ge=0, le=2**53)]
    sha256: Annotated[str, Field(max_length=64)] | None = None


def upload_json(view, roles=None):
    """JSON endpoints of uploads: 401 (and 403 outside ``roles`` when given) and service errors as JSON
    ``{"error": …}`` instead of pages; a refused chunk carries the offset to resume from."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return json_error(401, "unauthorized", _("请先登录。"))
        if roles is not None and current_user.role not in roles:
            return json_error(403, "forbidden", _("您无权访问此页面。"))
        try:
            return view(*args, **kwargs)
        except (uploads.OffsetMismatch, uploads.StorageFull) as exc:
            db.session.rollback()
            response = json_error(status_for(exc), exc.code, exc.message, offset=exc.offset)
            response.headers["Upload-Offset"] = str(exc.offset)
            return response
        except ServiceError as exc:
            db.session.rollback()
            return error_response(exc)
    return wrapped
