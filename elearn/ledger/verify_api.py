"""The certificate API: ``GET /api/v1/verify/<code>`` (public: the exact signed bytes, the Ed25519 signature
and the certificate's status, so a third party can check it offline with the key of ``/verify/key``),
``GET /api/v1/verify/key`` and, for the member, ``GET /api/v1/me/certificates``."""
from __future__ import annotations

from typing import Any, Literal

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel

from elearn.extensions import limiter
from elearn.http.api import api_blueprint, operation
from elearn.ledger import certificates
from elearn.ledger.models import Certificate
from elearn.policy import CERTIFICATES

bp = api_blueprint("verify_api", __name__)

class CurrentCertificate(BaseModel):
    serial: str
    code: str
    url: str


class VerifiedCertificate(BaseModel):
    """A certificate's verification: ``content_b64`` holds the exact bytes that ``signature`` (hex, Ed25519)
    covers, by the key ``key_id`` published at ``public_key_url``; ``content`` is the same, parsed."""

    serial: str
    code: str
    status: Literal["valid", "superseded", "revoked"]
    signature_valid: bool
    revoked_at: str | None
    revoked_reason: str | None
    current: CurrentCertificate | None
    content: dict[str, Any]
    content_b64: str
    content_text: str
    signature: str
    algorithm: str
    key_id: str
    public_key_pem: str
    public_key_url: str


class PublicKey(BaseModel):
    algorithm: str
    key_id: str
    fingerprint: str
    public_key_pem: str


class MyCertificate(BaseModel):
    serial: str
    code: str
    kind: Literal["cycle", "series"]
    series_id: int | None
    title: str
    issued_at: str
    status: Literal["valid", "superseded", "revoked"]
    verify_url: str
    pdf_url: str | None


class MyCertificates(BaseModel):
    """The member's certificates, newest first; asking issues the current ones where the ledger changed."""

    certificates: list[MyCertificate]


def _current_of(v: certificates.Verification) -> CurrentCertificate | None:
    if v.current is None:
        return None
    return CurrentCertificate(serial=v.current.serial, code=v.current.code,
                              url=url_for("verify.page", code=v.current.code, _external=True))


@operation(bp, "/verify/key", operation_id="getCertificateKey", response=PublicKey, auth=False,
           summary="The public key that signs certificates")
def key_api() -> PublicKey:
    """The Ed25519 public key (PEM), its id and fingerprint."""
    return PublicKey(algorithm=certificates.SIGNATURE_ALGORITHM, key_id=certificates.key_id(),
                     fingerprint=certificates.fingerprint(), public_key_pem=certificates.public_key_pem())


@operation(bp, "/verify/<code>", operation_id="verifyCertificate", response=VerifiedCertificate, auth=False,
           errors={404: "no certificate with this code", 429: "too many look-ups from this address"},
           summary="A certificate's signed content and signature, and whether it still stands")
@limiter.limit(CERTIFICATES.verify_limit_per_address)
def verify_api(code: str) -> VerifiedCertificate:
    """The signed content (exact bytes, base64), its Ed25519 signature and the certificate's status."""
    v = certificates.verify(code)
    cert = v.certificate
    return VerifiedCertificate(
        serial=cert.serial, code=cert.code, status=v.state, signature_valid=v.signature_ok,
        revoked_at=cert.revoked_at.isoformat() + "Z" if cert.revoked_at else None,
        revoked_reason=cert.revoked_reason, current=_current_of(v), content=v.content,
        public_key_pem=certificates.public_key_pem(), public_key_url=url_for("verify.key_pem", _external=True),
        **certificates.signed_payload(cert))


def _title(cert: Certificate, content: dict[str, Any]) -> str:
    if cert.kind == "series":
        return _("专题学习证书：%(s)s", s=content["series"]["title"])
    return _("党员教育培训学时证明")


@operation(bp, "/me/certificates", operation_id="getMyCertificates", response=MyCertificates,
           summary="My certificates (the cycle's and one per completed series), current ones issued as needed")
def my_certificates_api() -> MyCertificates:
    """Every certificate issued to the member, newest first, after issuing the current ones (idempotent)."""
    current = {c.id for c in certificates.issue_all(current_user)}
    out = []
    for cert in certificates.member_certificates(current_user):
        v = certificates.verify(cert.code)
        pdf = None
        if cert.id in current:
            pdf = url_for("credits.certificate_pdf", _external=True) if cert.kind == "cycle" else \
                url_for("credits.series_certificate_pdf", series_id=cert.series_id, _external=True)
        kind: Literal["cycle", "series"] = "series" if cert.kind == "series" else "cycle"
        out.append(MyCertificate(serial=cert.serial, code=cert.code, kind=kind, series_id=cert.series_id,
                                 title=_title(cert, v.content), issued_at=cert.issued_at.isoformat() + "Z",
                                 status=v.state, verify_url=url_for("verify.page", code=cert.code, _external=True),
                                 pdf_url=pdf))
    return MyCertificates(certificates=out)
