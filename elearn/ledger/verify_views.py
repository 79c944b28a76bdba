"""Checking a certificate, for anyone: ``/verify/<code>`` (the page its QR code opens, no sign-in) and
``/verify/key`` (the public key as PEM and its fingerprint). The API is elearn.ledger.verify_api.

The look-up is rate-limited per address (policy.CERTIFICATES); an unknown or malformed code is a 404 page.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, url_for
from flask_babel import gettext as _

from elearn.extensions import limiter
from elearn.ledger import certificates
from elearn.policy import CERTIFICATES, MEMBER_CATEGORIES, REQUIREMENT_STATES

bp = Blueprint("verify", __name__, url_prefix="/verify")

STATE_LABELS = {"valid": lambda: _("有效"), "superseded": lambda: _("有效（已有更新的证书）"),
                "revoked": lambda: _("已撤销")}


def _facts(v: certificates.Verification) -> dict[str, Any]:
    """What the page shows of a certificate, as plain data."""
    c = v.content
    if c["kind"] == "series":
        title = _("专题学习证书")
        hours = c["hours"]
        stated = _("已完成专题“%(s)s”的全部课程", s=c["series"]["title"])
    else:
        title = _("党员教育培训学时证明")
        hours = c["total_hours"]
        stated = str(REQUIREMENT_STATES.get(c["status"], c["status"]))
    current = v.current
    return {
        "title": title, "serial": c["serial"], "holder": c["holder"], "organisation": c["organisation"]["name"],
        "category": str(MEMBER_CATEGORIES.get(c.get("member_category", ""), "")), "hours": hours,
        "theory_hours": c.get("theory_hours"), "target_hours": c.get("target_hours"), "exempt": c.get("exempt"),
        "period_start": c["period"]["start"], "period_end": c["period"]["end"], "stated": stated,
        "series": c.get("series"), "courses": c.get("courses", []), "offjob_years": c.get("offjob_years"),
        "issued_on": c["issued_on"], "state": v.state, "state_label": STATE_LABELS[v.state](),
        "signature_ok": v.signature_ok, "key_current": v.key_current, "revoked_at": v.certificate.revoked_at,
        "revoked_reason": v.certificate.revoked_reason,
        "current_url": url_for("verify.page", code=current.code) if current is not None else None,
        "current_serial": current.serial if current is not None else None,
    }


@bp.route("/key")
def key():
    """The public key that signs certificates (PEM) and its fingerprint."""
    return render_template("ledger/verify_key.html", pem=certificates.public_key_pem(),
                           fingerprint=certificates.fingerprint(), key_id=certificates.key_id(),
                           algorithm=certificates.SIGNATURE_ALGORITHM)


@bp.route("/key.pem")
def key_pem():
    """The public key alone, as a PEM file."""
    response = Response(certificates.public_key_pem(), mimetype="application/x-pem-file")
    response.headers["Content-Disposition"] = 'inline; filename="elearn-certificates.pem"'
    return response


@bp.route("/<code>")
@limiter.limit(CERTIFICATES.verify_limit_per_address)
def page(code: str):
    """What a certificate states and whether it still stands (public: the QR code on the paper opens it)."""
    return render_template("ledger/verify.html", c=_facts(certificates.verify(code)))
