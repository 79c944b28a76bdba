"""Video: the access-checked HLS files the player fetches, and the studio's resumable uploads and transcode
status (JSON, called by ``static/js/upload.js``).

Media serving
-------------
``/learn/media/<asset id>/<file>`` serves the HLS output of a ready asset. Playlists go only to users who may
view its lesson (audience, the owning lecturer, site admins; everyone else gets 404, so asset ids reveal
nothing) and are rewritten per playback so that their requests carry the player's playback-session id
(``?ps=``).

Encrypted assets (every asset transcoded now): each segment is AES-128 under its own key, named in the media
playlist as ``../keys/<i>``. ``/learn/media/<asset id>/keys/<i>`` hands a key only to a member allowed to see
the lesson, always whole, ``no-store``; each key sent is the evidence that this playback session can play that
segment (reported to the study-hours service). The segments themselves are the same bytes for everyone:
public, immutable, cacheable by any proxy or CDN, served without a session.

Assets transcoded before encryption (until ``elearn media encrypt`` converts them): the segments are the
evidence, recorded only when sent whole (not HEAD, Range or 304, not a dropped download); they may be cached
privately.

Production (``ELEARN_X_ACCEL=1``): the app still checks access (and, for clear segments, records the delivery),
then answers with an empty body and ``X-Accel-Redirect: /protected-media/<storage key>`` so that nginx sends
the file::

    location /protected-media/ {
        internal;                         # reachable only through X-Accel-Redirect
        alias /srv/elearn/instance/data/; # ELEARN_DATA_DIR, with the trailing slash
        add_header X-Content-Type-Options nosniff;
    }

nginx handles Range and sendfile itself; the Content-Type and Cache-Control set by the app are kept.
Playlists and keys are small and per playback, so the app always sends them itself.

Uploads
-------
As every write they need the CSRF token, sent in the ``X-CSRFToken`` header:

* ``POST /studio/lessons/<id>/uploads`` ``{"filename", "size", "sha256"?}`` → 201 ``{"id", "offset", …}``
  (the open session of the same file is returned to resume it);
* ``GET|HEAD /studio/uploads/<id>`` → the offset (also in the ``Upload-Offset`` header);
* ``PUT|POST /studio/uploads/<id>?offset=N`` (or ``Content-Range: bytes N-M/size``) with raw bytes → the new
  offset; 409 ``{"error", "offset"}`` when N is not where the file ends;
* ``DELETE /studio/uploads/<id>`` cancels;
* ``GET /studio/assets/<id>/status`` → ``{"status", "progress", "error"}`` for the live state.
"""
from __future__ import annotations

import re

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from elearn.courses import services as courses
from elearn.errors import NotFound, ServiceError
from elearn.http.errors import json_error
from elearn.http.schemas import json_body
from elearn.media import services as media
from elearn.media import uploads
from elearn.media.upload_json import UploadRequest, upload_json
from elearn.policy import ASSET_STATUS_LABELS, MEDIA_SEGMENT_MAX_AGE_S, PUBLIC_SEGMENT_MAX_AGE_S

bp = Blueprint("media", __name__)


@bp.route("/learn/media/<int:asset_id>/keys/<int:index>", methods=["GET", "HEAD"])
def segment_key(asset_id: int, index: int):
    """The AES-128 key of one segment of an encrypted asset, for members who may watch its lesson.

    Always the whole 16 bytes with 200 (never a Range, never revalidated: no validators, ``no-store``), and
    the evidence that the playback session can play that segment — recorded only for GET, and only once the
    bytes were handed to the server."""
    if not current_user.is_authenticated:
        abort(401)
    try:
        found = media.segment_key_for(current_user, asset_id, index)
    except NotFound:
        abort(404)
    response = Response(found.key, mimetype="application/octet-stream")
    response.headers["Cache-Control"] = "no-store"
    if request.method == "GET":
        ps = media.valid_playback_session(request.args.get("ps"))
        response = _recorded_once_sent(response, lambda: media.record_key_delivery(current_user, found, ps))
    return response


@bp.route("/learn/media/<int:asset_id>/<path:filename>", methods=["GET", "HEAD"])
def media_file(asset_id: int, filename: str):
    """One HLS file of a ready asset, for users who may view its lesson; 404 for anyone else. The segments
    of an encrypted asset are ciphertext anyone (a CDN, a shared cache) may fetch and keep."""
    public = media.public_segment(asset_id, filename)
    if public is not None:
        return _send_public_segment(public)
    if not current_user.is_authenticated:
        abort(401)
    try:
        file = media.media_file(current_user, asset_id, filename)
    except NotFound:
        abort(404)
    ps = media.valid_playback_session(request.args.get("ps"))
    # The media sweep may remove a replaced asset's files between the check above and the read below.
    if file.is_playlist:
        try:
            text = file.path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            abort(404)
        response = Response(media.rewrite_playlist(text, ps, encrypted=bool(file.asset.key_secret)),
                            mimetype=file.mimetype)
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    # A segment is evidence only when it goes out whole: never for HEAD, a Range (partial) request or a
    # conditional one answered 304, and — when the app sends it — only once its last byte has been handed
    # to the server, so an aborted download records nothing.
    evidence = (file.is_segment and request.method == "GET" and request.range is None
                and not request.if_none_match and request.if_modified_since is None)
    if evidence and current_app.config["ELEARN_X_ACCEL"]:
        media.record_delivery(current_user, file, ps)  # nginx sends it: the app cannot know more
    response = _file_response(file, MEDIA_SEGMENT_MAX_AGE_S, f"private, max-age={MEDIA_SEGMENT_MAX_AGE_S}")
    if evidence and response.status_code == 200 and not current_app.config["ELEARN_X_ACCEL"]:
        response = _recorded_once_sent(response, lambda: media.record_delivery(current_user, file, ps))
    return response


def _send_public_segment(file) -> Response:
    return _file_response(file, PUBLIC_SEGMENT_MAX_AGE_S,
                          f"public, max-age={PUBLIC_SEGMENT_MAX_AGE_S}, immutable")


def _file_response(file, max_age: int, cache_control: str) -> Response:
    """``file`` sent by nginx (``ELEARN_X_ACCEL``) or by the app (Range and validators honoured)."""
    if current_app.config["ELEARN_X_ACCEL"]:
        response = Response(b"", mimetype=file.mimetype)
        response.headers["X-Accel-Redirect"] = f"/protected-media/{file.key}"
    else:
        try:
            response = send_file(file.path, mimetype=file.mimetype, conditional=True, etag=True, max_age=max_age)
        except (FileNotFoundError, NotADirectoryError):
            abort(404)
    response.headers["Cache-Control"] = cache_control
    return response


def _recorded_once_sent(response: Response, record) -> Response:
    """``response`` whose body, once iterated to its end by the server, calls ``record`` (in the request's
    context); a client that goes away mid-body leaves it uncalled."""
    body = response.response
    response.direct_passthrough = False

    def stream():
        try:
            yield from body
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        record()

    response.response = stream_with_context(stream())
    return response

CONTENT_RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


def studio_json(view):
    """The studio's JSON endpoints: lecturers and site admins only (:func:`upload_json`)."""
    return upload_json(view, courses.STUDIO_ROLES)


# ---------------------------------------------------------------- JSON: uploads and status


@bp.post("/studio/lessons/<int:lesson_id>/uploads")
@studio_json
def create_upload(lesson_id: int):
    """Open (or resume) a resumable upload of the lesson's video."""
    lesson = courses.studio_lesson(current_user, lesson_id)
    body = json_body(UploadRequest, "bad_upload")
    upload = uploads.create_upload(current_user, lesson, filename=body.filename, size=body.size,
                                   sha256=body.sha256 or None)
    data = uploads.describe(upload)
    data["url"] = url_for("media.upload", upload_id=upload.id)
    data["status_url"] = url_for("media.asset_status", asset_id=upload.asset_id)
    return jsonify(data), 201


def _upload_response(upload):
    data = uploads.describe(upload)
    response = jsonify(data)
    response.headers["Upload-Offset"] = str(data["offset"])
    response.headers["Cache-Control"] = "no-store"
    return response


def _requested_offset() -> int:
    header = request.headers.get("Content-Range", "")
    if header:
        match = CONTENT_RANGE_RE.match(header.strip())
        if not match:
            raise ServiceError(_("Content-Range 头格式无效。"), "bad_range")
        return int(match.group(1))
    raw = request.args.get("offset", "")
    if not raw.isdigit():
        raise ServiceError(_("缺少上传位置（offset）。"), "offset_required")
    return int(raw)


@bp.route("/studio/uploads/<upload_id>", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
@studio_json
def upload(upload_id: str):
    """Read the offset (GET/HEAD), append a chunk (PUT/POST), or cancel (DELETE) an upload."""
    session = uploads.get_upload(current_user, upload_id)
    if request.method in ("PUT", "POST"):
        offset = _requested_offset()
        uploads.append_chunk(current_user, session, offset, request.stream)
        if session.status == "failed":
            asset = media.studio_asset(current_user, session.asset_id)
            return json_error(422, "upload_failed", asset.error or _("上传失败。"))
    elif request.method == "DELETE":
        uploads.abort_upload(current_user, session)
    return _upload_response(session)


@bp.get("/studio/assets/<int:asset_id>/status")
@studio_json
def asset_status(asset_id: int):
    """Live state of a video: queued, transcoding n %, ready, failed with the reason."""
    asset = media.studio_asset(current_user, asset_id)
    if asset.status in ("queued", "transcoding"):
        # A worker that died mid-job is noticed here too, not only by the periodic sweep.
        media.requeue_stale_assets([asset.id])
        asset = media.studio_asset(current_user, asset_id)
    data = media.asset_state(asset)
    data["label"] = str(ASSET_STATUS_LABELS.get(asset.status, asset.status))
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response
