"""Verifiable certificates: issue, sign, look up, verify and revoke.

A certificate states what the ledger says of a member: the cycle's hours against the requirement (``kind``
"cycle", with a secretary's yearly off-job training) or one completed series ("series"). What it states is
canonical JSON (sorted keys, no whitespace, UTF-8; hours as decimal strings so that no float formatting differs
between languages), signed with Ed25519 by the site's certificate key (PEM in ``instance/``, generated at first
use with mode 0600; the public half is published at ``/verify/key``). Anyone can check a certificate offline:
``GET /api/v1/verify/<code>`` answers the exact signed bytes and the signature.

:func:`issue` is idempotent: asking again while the statement is unchanged returns the same certificate; a
changed statement gets a new serial and the earlier certificate points to it (``replaced_by``). A correction of
the member's credits (elearn.ledger.services.correct) revokes the certificates that counted the corrected
entry (:func:`revoke_for_correction`); the next request issues one with a new serial.

The public pages show the holder's name masked (张*明): the signed content holds only the masked name, so the
public API gives away no more than the page.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from elearn import clock
from elearn.courses.models import Course, Lesson, Series, SeriesCourse
from elearn.errors import NotFound
from elearn.extensions import db
from elearn.ledger import chain, requirements
from elearn.ledger.models import Certificate, MemberCourseProgress, StudyCredit
from elearn.media.models import MediaAsset
from elearn.orgs.models import User
from elearn.policy import CERTIFICATES, POLICY

FORMAT_VERSION = 1
KINDS = ("cycle", "series")
SIGNATURE_ALGORITHM = "Ed25519"
# What a verification code may look like (secrets.token_urlsafe's alphabet); anything else is not looked up.
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{%d}" % CERTIFICATES.code_length)
# Separators inside a name (ethnic-minority names: 阿依古丽·买买提) stay visible when it is masked.
NAME_SEPARATORS = "·•・.‧ -"
# Fields of the content that are not part of what it states: they differ between two issues of one statement.
ISSUE_FIELDS = ("serial", "code", "issued_on", "issued_at", "key_id")
# valid; superseded: a newer one exists, this one still stands for its date; revoked: a correction voided it.
State = Literal["valid", "superseded", "revoked"]


# --- the key ---------------------------------------------------------------------------------------------------

def _key_path() -> Path:
    return Path(current_app.config["ELEARN_CERTIFICATE_SIGNING_KEY_FILE"])


def signing_key() -> Ed25519PrivateKey:
    """The certificate key (PEM at ``ELEARN_CERTIFICATE_SIGNING_KEY_FILE``), generated once when missing, with
    mode 0600. There is no other key to fall back to: an unreadable or foreign file is an error."""
    return chain.ed25519_key_file(_key_path())


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def public_key_pem() -> str:
    return public_key().public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def fingerprint(key: Ed25519PublicKey | None = None) -> str:
    """SHA-256 of the raw public key, hex in groups of four (what a person compares by eye)."""
    raw = (key or public_key()).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()
    return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))


def key_id(key: Ed25519PublicKey | None = None) -> str:
    """The first 16 hex digits of the fingerprint: which key signed a certificate."""
    return fingerprint(key).replace(" ", "")[:16]


# --- content ---------------------------------------------------------------------------------------------------

def canonical(content: dict[str, Any]) -> bytes:
    """The bytes a signature covers: JSON with sorted keys, no whitespace, UTF-8 (not ASCII-escaped)."""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _hours(value: float) -> str:
    return f"{round(value, 2):.2f}"


def mask_name(name: str) -> str:
    """The name with all but its first and last characters hidden (张*明, 李*, 阿***·**提); separators stay."""
    chars = list((name or "").strip())
    letters = [i for i, ch in enumerate(chars) if ch not in NAME_SEPARATORS]
    if not letters:
        return ""
    if len(letters) == 1:
        return "*"
    keep = {letters[0]} if len(letters) == 2 else {letters[0], letters[-1]}
    return "".join(ch if (i in keep or ch in NAME_SEPARATORS) else "*" for i, ch in enumerate(chars))


def _holder(user: User) -> dict[str, Any]:
    org = user.organisation
    return {"holder": mask_name(user.name), "member_category": user.category,
            "organisation": {"id": org.id, "name": org.name}}


def cycle_statement(user: User) -> dict[str, Any]:
    """What the cycle's certificate states of ``user`` now (requirements.status, the one home of the rules)."""
    st = requirements.status(user)
    out: dict[str, Any] = {
        "v": FORMAT_VERSION, "kind": "cycle", **_holder(user),
        "period": {"start": st.cycle_start.isoformat(), "end": st.cycle_end.isoformat()},
        "total_hours": _hours(st.total_hours), "theory_hours": _hours(st.theory_hours),
        "target_hours": _hours(st.target_hours) if st.target_hours is not None else None,
        "exempt": st.exempt, "status": st.state,
    }
    if user.category == "branch_secretary":
        # The secretary's yearly off-job training at county level or above, year by year so far.
        out["offjob_years"] = [{"year": y.year, "hours": _hours(y.offjob_county_hours),
                                "required": _hours(y.offjob_required or 0), "met": bool(y.offjob_met)}
                               for y in st.years]
    return out


def finished_course_ids(user: User) -> set[int]:
    """Courses ``user`` has finished: a course credit, or credits for each playable lesson (the rule of
    elearn.analytics.queries.series_org_rows, on one member)."""
    P = MemberCourseProgress
    playable = (select(Lesson.course_id, func.count(Lesson.id).label("n"))
                .join(MediaAsset, MediaAsset.id == Lesson.asset_id).where(MediaAsset.status == "ready")
                .group_by(Lesson.course_id)).subquery("playable")
    rows = db.session.execute(
        select(P.course_id, P.whole, P.lessons, playable.c.n).outerjoin(playable, playable.c.course_id == P.course_id)
        .where(P.user_id == user.id)).all()
    return {cid for cid, whole, lessons, n in rows if whole > 0 or (n is not None and lessons >= n)}


def completed_series(user: User) -> list[Series]:
    """Published series every course of which ``user`` has finished, in the order they were published."""
    done = finished_course_ids(user)
    if not done:
        return []
    found = db.session.execute(
        select(Series).join(SeriesCourse, SeriesCourse.series_id == Series.id)
        .where(Series.published.is_(True), SeriesCourse.course_id.in_(done)).distinct()
        .order_by(Series.published_at, Series.id)).scalars().all()
    return [s for s in found if s.items and all(item.course_id in done for item in s.items)]


def series_statement(user: User, series: Series) -> dict[str, Any]:
    """What a series certificate states: the series, its courses, the hours credited for them and when."""
    course_ids = [item.course_id for item in series.items]
    titles: dict[int, str] = {row.id: row.title for row in db.session.execute(
        select(Course.id, Course.title).where(Course.id.in_(course_ids)))}
    hours, first, last = db.session.execute(
        select(func.coalesce(func.sum(StudyCredit.hours), 0.0), func.min(StudyCredit.credited_on),
               func.max(StudyCredit.credited_on))
        .where(StudyCredit.user_id == user.id, StudyCredit.course_id.in_(course_ids))).one()
    return {
        "v": FORMAT_VERSION, "kind": "series", **_holder(user),
        "series": {"id": series.id, "title": series.title},
        "courses": [titles.get(cid, "") for cid in course_ids],
        "hours": _hours(float(hours or 0.0)),
        "period": {"start": first.isoformat() if first else None, "end": last.isoformat() if last else None},
        "status": "completed",
    }


def _digest(statement: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(statement)).hexdigest()


# --- issuing ---------------------------------------------------------------------------------------------------

def _new_serial(kind: str, today: date) -> str:
    digits = "".join(secrets.choice("0123456789") for _ in range(CERTIFICATES.serial_digits))
    return f"{today.year}{'C' if kind == 'cycle' else 'S'}{digits}"


def _latest(user: User, kind: str, series_id: int | None) -> Certificate | None:
    C = Certificate
    stmt = select(C).where(C.user_id == user.id, C.kind == kind, C.replaced_by_id.is_(None))
    stmt = stmt.where(C.series_id.is_(None) if series_id is None else C.series_id == series_id)
    return db.session.execute(stmt.order_by(C.id.desc()).limit(1)).scalar()


def _one_issuer_at_a_time(user: User) -> None:
    """Make two issues for one member at once wait for each other, so that they do not both find nothing current
    and issue twice: PostgreSQL locks the member's row; SQLite's write lock is taken by the transaction's first
    write (this UPDATE of no row begins it), and the other writer waits for the commit."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    else:
        db.session.execute(update(Certificate).where(Certificate.id == -1).values(revoked_reason=None))


def _issue(user: User, kind: str, statement: dict[str, Any], series_id: int | None) -> Certificate:
    _one_issuer_at_a_time(user)
    digest = _digest(statement)
    latest = _latest(user, kind, series_id)
    if latest is not None and latest.revoked_at is None and latest.statement_digest == digest:
        return latest
    key = signing_key()
    now = clock.now_utc().replace(tzinfo=None, microsecond=0)
    today = clock.site_today()
    while True:  # 10 random digits and 96-bit codes: a second round is (practically) never needed
        serial, code = _new_serial(kind, today), secrets.token_urlsafe(CERTIFICATES.code_length * 3 // 4)
        taken = db.session.execute(select(Certificate.id).where(
            (Certificate.serial == serial) | (Certificate.code == code))).first()
        if taken is None:
            break
    content = {**statement, "serial": serial, "code": code, "issued_on": today.isoformat(),
               "issued_at": now.isoformat() + "Z", "key_id": key_id(key.public_key())}
    data = canonical(content)
    cert = Certificate(serial=serial, code=code, user_id=user.id, kind=kind, series_id=series_id,
                       statement_digest=digest, content=data.decode(), signature=key.sign(data).hex(),
                       key_id=content["key_id"], issued_at=now)
    db.session.add(cert)
    db.session.flush()
    # Every earlier certificate of this kind that nothing replaced yet (revoked or merely outdated) now points here.
    C = Certificate
    earlier = update(C).where(C.user_id == user.id, C.kind == kind, C.replaced_by_id.is_(None), C.id != cert.id)
    earlier = earlier.where(C.series_id.is_(None) if series_id is None else C.series_id == series_id)
    db.session.execute(earlier.values(replaced_by_id=cert.id))
    db.session.commit()
    return cert


def issue_cycle(user: User) -> Certificate:
    """The member's certificate of the cycle as the ledger stands now (the same one while nothing changed)."""
    return _issue(user, "cycle", cycle_statement(user), None)


def issue_series(user: User, series_id: int) -> Certificate:
    """The member's certificate of a series they completed; NotFound for any other series."""
    series = next((s for s in completed_series(user) if s.id == series_id), None)
    if series is None:
        raise NotFound(_("尚未完成该专题的全部课程，暂无证书。"))
    return _issue(user, "series", series_statement(user, series), series.id)


def issue_all(user: User) -> list[Certificate]:
    """The cycle certificate and one per completed series, current (issued where needed)."""
    return [issue_cycle(user), *[_issue(user, "series", series_statement(user, s), s.id)
                                 for s in completed_series(user)]]


def member_certificates(user: User) -> list[Certificate]:
    """Every certificate ever issued to ``user``, newest first."""
    return list(db.session.execute(select(Certificate).where(Certificate.user_id == user.id)
                                   .order_by(Certificate.id.desc())).scalars())


# --- revoking --------------------------------------------------------------------------------------------------

def revoke_for_correction(entry: StudyCredit, reason: str) -> int:
    """Revoke the certificates of ``entry``'s member that counted it: the cycle's when the entry falls in the
    cycle, a series' when its course is in the series. Does not commit (the correction's transaction does);
    returns how many were revoked."""
    C = Certificate
    now = clock.now_utc().replace(tzinfo=None, microsecond=0)
    kinds = []
    if POLICY.cycle_start <= entry.credited_on <= POLICY.cycle_end:
        kinds.append(C.kind == "cycle")
    if entry.course_id is not None:
        in_series = select(SeriesCourse.series_id).where(SeriesCourse.course_id == entry.course_id)
        kinds.append((C.kind == "series") & C.series_id.in_(in_series))
    if not kinds:
        return 0
    condition = kinds[0] if len(kinds) == 1 else kinds[0] | kinds[1]
    result = db.session.execute(update(C).where(C.user_id == entry.user_id, C.revoked_at.is_(None), condition)
                                .values(revoked_at=now, revoked_reason=reason[:300])
                                .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


# --- verifying -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verification:
    """A certificate looked up by its code, as plain data for the public page and the API."""

    certificate: Certificate
    content: dict[str, Any]
    signature_ok: bool
    key_current: bool  # signed by the key published now (else by one replaced since: not checkable here)
    state: State
    current: Certificate | None  # the newest of the same member and kind, when not this one

    @property
    def serial(self) -> str:
        return self.certificate.serial


def lookup(code: str) -> Certificate:
    """The certificate with verification ``code``; NotFound for an unknown or malformed code."""
    if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
        raise NotFound(_("验证码格式不正确，未找到该证书。"), "certificate_not_found")
    cert = db.session.execute(select(Certificate).where(Certificate.code == code)).scalar()
    if cert is None:
        raise NotFound(_("未找到该证书，请核对验证码。"), "certificate_not_found")
    return cert


def signature_valid(content: bytes, signature_hex: str, key: Ed25519PublicKey | None = None) -> bool:
    try:
        (key or public_key()).verify(bytes.fromhex(signature_hex), content)
    except (InvalidSignature, ValueError):
        return False
    return True


def _newest(cert: Certificate) -> Certificate | None:
    seen = {cert.id}
    at = cert
    while at.replaced_by_id is not None and at.replaced_by_id not in seen:
        nxt = db.session.get(Certificate, at.replaced_by_id)
        if nxt is None:
            break
        seen.add(nxt.id)
        at = nxt
    return at if at.id != cert.id else None


def verify(code: str) -> Verification:
    """Look up ``code`` and check its signature against the current key; NotFound as :func:`lookup`."""
    cert = lookup(code)
    data = cert.content.encode()
    key = public_key()
    key_current = cert.key_id == key_id(key)
    ok = key_current and signature_valid(data, cert.signature, key)
    current = _newest(cert)
    state: State = "revoked" if cert.revoked_at is not None else ("superseded" if current is not None else "valid")
    return Verification(certificate=cert, content=json.loads(data), signature_ok=ok, key_current=key_current,
                        state=state, current=current)


def signed_payload(cert: Certificate) -> dict[str, Any]:
    """What a third party needs to check ``cert`` offline: the exact signed bytes (base64 and as text), the
    hex signature, the algorithm and the key's id."""
    return {"content_b64": base64.b64encode(cert.content.encode()).decode(), "content_text": cert.content,
            "signature": cert.signature, "algorithm": SIGNATURE_ALGORITHM, "key_id": cert.key_id}

