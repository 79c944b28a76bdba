"""Check-in pages: the member's side (``/c/<token>`` opened by a phone's camera, ``/checkin`` to type the short
form) and the host screen (``/checkin/host/<kind>/<id>``: a large rotating QR code, the short form and a live
count, refreshed from a small JSON endpoint without reloading the page)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import segno
from flask import Blueprint, Response, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.routing import BuildError

from elearn import clock
from elearn.branch import checkin
from elearn.errors import ServiceError
from elearn.extensions import db, limiter
from elearn.http.api import per_user
from elearn.http.errors import status_for
from elearn.i18n import local_time
from elearn.policy import CHECKIN

bp = Blueprint("checkin", __name__)
# A code scanned while signed out: kept in the session so the check-in after signing in counts from the scan.
_SEEN = "checkin_seen"


def refused(response: Response) -> bool:
    """Only refused check-ins count against the limits (guessing); a member's successful scans never do."""
    return response.status_code >= 400


def evidence() -> dict[str, str]:
    """The client's address and user agent, kept in the attendance's audit entry."""
    return {"ip": request.remote_addr or "", "user_agent": request.user_agent.string[:300]}


def _result_page(code: str, seen_at: datetime | None = None) -> tuple[str, int]:
    try:
        result = checkin.check_in(current_user, code, evidence=evidence(), seen_at=seen_at)
    except ServiceError as exc:
        db.session.rollback()
        return render_template("branch/checkin_result.html", error=exc.message), status_for(exc)
    return render_template("branch/checkin_result.html", result=result,
                           at=clock.to_site(result.at).strftime("%H:%M")), 200


@bp.route("/c/<token>")
@limiter.limit(CHECKIN.limit_per_address, deduct_when=refused)
@limiter.limit(CHECKIN.limit_per_user, key_func=per_user, deduct_when=refused)
def scanned(token: str):
    """A scanned QR code: check in at once (after signing in if needed, counted from the moment of the scan)."""
    if not current_user.is_authenticated:
        session[_SEEN] = {"token": token[:80], "at": clock.now_utc().isoformat()}
        return redirect(url_for("auth.login", next=url_for("checkin.scanned", token=token)))
    seen = session.pop(_SEEN, None)
    seen_at = None
    if isinstance(seen, dict) and seen.get("token") == token:
        try:
            seen_at = datetime.fromisoformat(str(seen.get("at")))
        except ValueError:
            seen_at = None
    return _result_page(token, seen_at)


@bp.route("/checkin", methods=["GET", "POST"])
@login_required
@limiter.limit(CHECKIN.limit_per_address, methods=["POST"], deduct_when=refused)
@limiter.limit(CHECKIN.limit_per_user, key_func=per_user, methods=["POST"], deduct_when=refused)
def typed():
    """Check in by typing the short form shown on the host's screen."""
    if request.method == "POST":
        return _result_page(request.form.get("code", "")[:40])
    return render_template("branch/checkin_form.html")


def _host_target(kind_name: str, target_id: int) -> tuple[checkin.TargetKind, Any]:
    kind = checkin.kind_of(kind_name)
    obj = checkin.target(kind, target_id)
    checkin.require_host(current_user, kind, obj)
    return kind, obj


@bp.route("/checkin/host/<kind_name>/<int:target_id>")
@login_required
def host(kind_name: str, target_id: int):
    """The host screen: the rotating QR code to show on a projector or a phone, and who has checked in."""
    kind, obj = _host_target(kind_name, target_id)
    opens, closes = kind.window(obj)
    endpoint, arg = kind.attendance_endpoint
    try:
        attendance_url: str | None = url_for(endpoint, **{arg: obj.id})
    except BuildError:  # the attendance page's module is not installed: the host marks absences there later
        attendance_url = None
    return render_template("branch/checkin_host.html", kind=kind.kind, target_id=obj.id, title=kind.title(obj),
                           opens=opens, closes=closes, attendance_url=attendance_url,
                           code_url=url_for("checkin.host_code", kind_name=kind.kind, target_id=obj.id),
                           step_ms=CHECKIN.step_s * 1000)


@bp.route("/checkin/host/<kind_name>/<int:target_id>/code")
@login_required
def host_code(kind_name: str, target_id: int):
    """The host screen's current code (QR as inline SVG, the URL and the short form) and who is in, as JSON."""
    kind, obj = _host_target(kind_name, target_id)
    shown = checkin.show_code(current_user, kind, obj)
    link = url_for("checkin.scanned", token=shown.token, _external=True)
    svg = segno.make(link, error="m").svg_inline(scale=8, omitsize=True, dark="#000", light="#fff",
                                                 svgclass="checkin-qr", title=_("签到二维码"))
    present = checkin.present(current_user, kind, obj)
    return jsonify({"svg": str(Markup(svg)), "url": link, "short": shown.short, "step": shown.step,
                    "expires_in": round(shown.expires_in, 1), "count": len(present),
                    "present": [{"name": name, "at": local_time(at)} for name, at in present[-50:]]})
