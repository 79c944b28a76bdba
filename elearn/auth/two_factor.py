"""Two-factor sign-in (TOTP, RFC 6238) and its one-time recovery codes: enrolment proven by a code, the
second step of signing in (replays refused), regenerating codes, disabling, and a higher admin's reset after
a lost device. Every change is audited; the rules of who must have it are ``policy.TWO_FACTOR``.

The TOTP secret is kept encrypted with AES-GCM under a key derived (HKDF-SHA256) from the app's SECRET_KEY
with a purpose label of its own, and recovery codes as HMAC-SHA256 under another derived key: a copy of the
database alone yields neither. (Changing SECRET_KEY therefore makes every enrolled user enrol again.)"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from calendar import timegm

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from elearn import clock
from elearn.access import Role
from elearn.audit import services as audit
from elearn.auth import services as auth
from elearn.auth.models import LoginSession, RecoveryCode, TwoFactor
from elearn.auth.passwords import verify_password
from elearn.errors import Forbidden, NotAuthenticated, ServiceError
from elearn.extensions import db, rowcount
from elearn.orgs import services as orgs
from elearn.orgs.models import User
from elearn.policy import TWO_FACTOR

_SECRET_FORMAT = "v1"
# Recovery codes: 10 symbols of an alphabet without look-alikes (0/O, 1/I/L), 50 bits, shown as xxxxx-xxxxx.
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_CODE_LENGTH = 10


# -- keys and secrets at rest ---------------------------------------------------------------------------------

def _derived_key(purpose: bytes) -> bytes:
    """A 256-bit key for one purpose, derived from the app's SECRET_KEY (HKDF-SHA256). Kept here until the
    general personal-data encryption (elearn.security) can take over the secret."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"elearn/" + purpose).derive(
        current_app.config["SECRET_KEY"].encode())


def encrypt_secret(user_id: int, secret: str) -> str:
    """The TOTP ``secret`` encrypted for storage (AES-256-GCM, random nonce, bound to ``user_id`` so that a
    secret copied to another account's row does not decrypt)."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_derived_key(b"two-factor-secret")).encrypt(nonce, secret.encode(), str(user_id).encode())
    return f"{_SECRET_FORMAT}:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_secret(user_id: int, stored: str) -> str:
    """The TOTP secret of ``stored`` (see :func:`encrypt_secret`). Raises ValueError for a value that does not
    decrypt under this app's key for this user (a changed SECRET_KEY, a row edited or moved)."""
    fmt, _sep, body = stored.partition(":")
    if fmt != _SECRET_FORMAT:
        raise ValueError("unknown format of a stored two-factor secret")
    raw = base64.urlsafe_b64decode(body.encode())
    try:
        plain = AESGCM(_derived_key(b"two-factor-secret")).decrypt(raw[:12], raw[12:], str(user_id).encode())
    except InvalidTag:
        raise ValueError("the stored two-factor secret does not decrypt under this key") from None
    return plain.decode()


def _normalised_code(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _code_hash(user_id: int, code: str) -> str:
    return hmac.new(_derived_key(b"two-factor-recovery-code"), f"{user_id}:{_normalised_code(code)}".encode(),
                    hashlib.sha256).hexdigest()


def _new_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with new ones (in the session, not committed); returns them in clear,
    to be shown once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    now = clock.now_utc()
    codes = []
    for _i in range(TWO_FACTOR.recovery_codes):
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _j in range(_CODE_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_code_hash(user.id, raw), created_at=now))
    return codes


# -- who must have it --------------------------------------------------------------------------------------------

def is_required(user: User) -> bool:
    """The user's role may not sign in without a second factor (policy.TWO_FACTOR.required_roles, unless the
    deployment lifted the requirement: ELEARN_TWO_FACTOR_ENFORCED)."""
    return bool(current_app.config["ELEARN_TWO_FACTOR_ENFORCED"]) and Role(user.role) in TWO_FACTOR.required_roles


def factor_of(user: User) -> TwoFactor | None:
    return db.session.get(TwoFactor, user.id)


def is_enabled(user: User) -> bool:
    """The user has an enrolled, confirmed second factor."""
    row = factor_of(user)
    return row is not None and row.confirmed_at is not None and row.secret_encrypted is not None


def must_enrol(user: User) -> bool:
    """The user may not go on without enrolling first: their role requires a second factor, or a higher admin
    reset theirs (lost device) and they have not enrolled since."""
    row = factor_of(user)
    if row is not None and row.confirmed_at is not None:
        return False
    return is_required(user) or (row is not None and row.reset_at is not None)


def may_use_api_tokens(user: User) -> bool:
    """An API token is a factor of its own: a user who must have two factors gets none before enrolling."""
    return not must_enrol(user)


def recovery_codes_left(user: User) -> int:
    return db.session.execute(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalar_one()


# -- TOTP ----------------------------------------------------------------------------------------------------------

def _step_now() -> int:
    return timegm(clock.now_utc().utctimetuple()) // TWO_FACTOR.step_seconds


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=TWO_FACTOR.digits, interval=TWO_FACTOR.step_seconds)


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The time step (now ± the window) whose code ``code`` is, if later than ``after``; else None."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != TWO_FACTOR.digits or not code.isdigit():
        return None
    totp, now = _totp(secret), _step_now()
    for step in range(now - TWO_FACTOR.valid_window, now + TWO_FACTOR.valid_window + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _consume_step(user: User, step: int) -> bool:
    """Record ``step`` as the last used, only if it is later than the one recorded: of two requests with the
    same code, one wins (a conditional UPDATE, whatever the database)."""
    done = rowcount(db.session.execute(
        update(TwoFactor).where(TwoFactor.user_id == user.id,
                                or_(TwoFactor.last_step.is_(None), TwoFactor.last_step < step))
        .values(last_step=step).execution_options(synchronize_session=False)))
    return done == 1


def _accept_totp(user: User, row: TwoFactor, code: str) -> bool:
    if row.secret_encrypted is None:
        return False
    step = _matching_step(decrypt_secret(user.id, row.secret_encrypted), code, row.last_step)
    return step is not None and _consume_step(user, step)


def _accept_recovery_code(user: User, code: str) -> bool:
    if len(_normalised_code(code)) != _CODE_LENGTH:
        return False
    used = rowcount(db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
                                   RecoveryCode.code_hash == _code_hash(user.id, code))
        .values(used_at=clock.now_utc()).execution_options(synchronize_session=False)))
    return used == 1


# -- enrolment -----------------------------------------------------------------------------------------------

def enrolment_secret(user: User, *, fresh: bool = False) -> str:
    """The secret of the user's enrolment under way (made on first call; the same on a reload of the page, so a
    phone that scanned it stays right; ``fresh`` for a new one). Raises ServiceError when already enrolled."""
    row = factor_of(user)
    if row is not None and row.confirmed_at is not None:
        raise ServiceError(_("您已启用两步验证。"), "already_enrolled")
    if row is None:
        row = TwoFactor(user_id=user.id)
        db.session.add(row)
    if row.secret_encrypted is None or fresh:
        row.secret_encrypted = encrypt_secret(user.id, pyotp.random_base32())
        db.session.commit()
    return decrypt_secret(user.id, row.secret_encrypted)


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return _totp(secret).provisioning_uri(name=user.username, issuer_name=TWO_FACTOR.issuer)


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Finish the enrolment under way with a code from the authenticator app: the factor is on from now, and
    the new recovery codes are returned in clear (shown once; only their hashes are kept). Audited. Raises
    ServiceError for a wrong code (nothing changes) or when no enrolment is under way."""
    row = factor_of(user)
    if row is None or row.secret_encrypted is None:
        raise ServiceError(_("请先打开启用两步验证的页面。"), "no_enrolment")
    if row.confirmed_at is not None:
        raise ServiceError(_("您已启用两步验证。"), "already_enrolled")
    step = _matching_step(decrypt_secret(user.id, row.secret_encrypted), code, None)
    if step is None:
        raise ServiceError(_("验证码不正确，请查看验证器中的 6 位数字后重试（注意手机时间是否准确）。"), "bad_code")
    was_reset = row.reset_at is not None
    row.confirmed_at, row.last_step, row.reset_at = clock.now_utc(), step, None
    codes = _new_codes(user)
    audit.record(user, "auth.2fa.enrol", user, after={"after_reset": True} if was_reset else None)
    db.session.commit()
    return codes


# -- the second step of signing in -----------------------------------------------------------------------------

def verify_sign_in(user: User, code: str) -> str:
    """Check the second factor of a user who gave the right password: a current TOTP code (not one used
    before) or an unused recovery code (used up by this). Returns ``"totp"`` or ``"recovery"``. A wrong code
    changes nothing but the audit log (``auth.2fa.failure``) and raises NotAuthenticated."""
    row = factor_of(user)
    if row is None or row.confirmed_at is None:
        raise ServiceError(_("该账号未启用两步验证。"), "not_enrolled")
    if _accept_totp(user, row, code):
        db.session.commit()
        return "totp"
    if _accept_recovery_code(user, code):
        audit.record(user, "auth.2fa.recovery_used", user, after={"codes_left": recovery_codes_left(user)})
        db.session.commit()
        return "recovery"
    db.session.rollback()
    audit.record(user, "auth.2fa.failure", user)
    db.session.commit()
    raise NotAuthenticated(_("验证码不正确或已使用过。请输入验证器中当前的 6 位数字，或一个未用过的恢复码。"),
                           "bad_code")


def _prove_presence(user: User, *, code: str, password: str) -> None:
    """A change to the factor needs a current code or the password, so that a browser left signed in is not
    enough. Raises ServiceError."""
    row = factor_of(user)
    if code and row is not None and _accept_totp(user, row, code):
        return
    if password and verify_password(user.password_hash, password):
        return
    db.session.rollback()
    raise ServiceError(_("请填写验证器中当前的验证码或您的密码。") if not (code or password)
                       else _("验证码或密码不正确。"), "bad_proof")


def regenerate_codes(user: User, *, code: str = "", password: str = "") -> list[str]:
    """New recovery codes replacing all the old ones (used or not); needs a current code or the password.
    Returns them in clear (shown once). Audited."""
    if not is_enabled(user):
        raise ServiceError(_("该账号未启用两步验证。"), "not_enrolled")
    _prove_presence(user, code=code, password=password)
    codes = _new_codes(user)
    audit.record(user, "auth.2fa.codes_regenerated", user)
    db.session.commit()
    return codes


def disable(user: User, *, code: str = "", password: str = "") -> None:
    """Turn the user's own second factor off (needs a current code or the password); refused to roles that
    require it. Audited."""
    if is_required(user):
        raise Forbidden(_("您的角色必须使用两步验证，不能关闭。"), "two_factor_required")
    if not is_enabled(user):
        raise ServiceError(_("该账号未启用两步验证。"), "not_enrolled")
    _prove_presence(user, code=code, password=password)
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    audit.record(user, "auth.2fa.disable", user)
    db.session.commit()


# -- a higher admin's reset (lost device) ----------------------------------------------------------------------

def may_reset(actor: User, user: User) -> bool:
    """A site admin resets anyone's factor; an org admin those of their subtree's users who are not admins
    of an organisation at or above their own; nobody their own (that is what recovery codes are for)."""
    if not actor.is_authenticated or not actor.active or actor.id == user.id:
        return False
    if actor.role == Role.SITE_ADMIN:
        return True
    if not orgs.can_manage(actor, user.organisation) or user.role == Role.SITE_ADMIN:
        return False
    return user.role != Role.ORG_ADMIN or user.organisation_id != actor.organisation_id


def admin_view(actor: User, user: User) -> dict[str, bool]:
    """What the member page shows an admin of ``user``'s factor: enrolled, reset and awaiting enrolment, and
    whether ``actor`` may reset it."""
    row = factor_of(user)
    return {"enabled": row is not None and row.confirmed_at is not None,
            "reset": row is not None and row.reset_at is not None, "may_reset": may_reset(actor, user)}


def reset(actor: User, user: User) -> None:
    """Lost device: ``user``'s factor and recovery codes are removed, they must enrol again at their next
    sign-in, and every login session of theirs ends at once. Audited. Raises Forbidden outside ``actor``'s
    scope (see :func:`may_reset`)."""
    if not may_reset(actor, user):
        raise Forbidden(_("您无权重置该用户的两步验证。"), "forbidden")
    row = factor_of(user)
    had = row is not None and row.confirmed_at is not None
    if row is None:
        row = TwoFactor(user_id=user.id)
        db.session.add(row)
    row.secret_encrypted, row.confirmed_at, row.last_step, row.reset_at = None, None, None, clock.now_utc()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(actor, "auth.2fa.reset", user, before={"enrolled": had})
    auth.end_sessions(actor, user, "2fa_reset", commit=False)
    db.session.commit()


# -- "last sign-in" ------------------------------------------------------------------------------------------

def previous_sign_in(user: User, *, current: str | None) -> LoginSession | None:
    """The login session of the user's sign-in before the current one (``current``: its session id), or None
    for a first sign-in. A remember-me comeback is not a sign-in: the row it started in (created when the row
    before it ended as "rotated") is passed over."""
    rows = list(db.session.execute(select(LoginSession).where(LoginSession.user_id == user.id)
                                   .order_by(LoginSession.created_at.desc()).limit(50)).scalars())
    rotated_at = {r.ended_at for r in rows if r.end_reason == "rotated"}
    for row in rows:
        if row.id != current and row.created_at not in rotated_at:
            return row
    return None
