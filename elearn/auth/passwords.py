"""Password hashing (argon2id) and the password policy (elearn.policy.PasswordPolicy): length and character
classes, no reuse of the last few, optional expiry, and the passwords the app generates."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from elearn import clock
from elearn.auth.models import PasswordHistory
from elearn.errors import ServiceError
from elearn.extensions import db
from elearn.orgs.models import User
from elearn.policy import PASSWORDS

_hasher = PasswordHasher()
# For secrets the app itself draws at random (an import's initial passwords, 56+ bits): guessing them costs
# the same whatever the hash, so a light argon2id profile (1 pass over 2 MiB, about 1 ms) is enough, and 500
# imported members take seconds, not a minute and a half. The first sign-in re-hashes with the full profile
# (see :func:`needs_rehash`).
_random_secret_hasher = PasswordHasher(time_cost=1, memory_cost=2 * 1024, parallelism=1)


def hash_password(password: str, *, random_secret: bool = False) -> str:
    """The argon2id hash of ``password``; ``random_secret`` only for a password the app generated."""
    return (_random_secret_hasher if random_secret else _hasher).hash(password)


def needs_rehash(stored_hash: str) -> bool:
    """True when ``stored_hash`` was made with other parameters than the full profile."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_CLASSES = (
    ("lower", re.compile(r"[a-z]")),
    ("upper", re.compile(r"[A-Z]")),
    ("digit", re.compile(r"[0-9]")),
    # Anything else printable counts as a symbol (punctuation, a space, a Chinese character).
    ("symbol", re.compile(r"[^A-Za-z0-9]")),
)


def _class_labels() -> dict[str, str]:
    return {"lower": _("小写字母"), "upper": _("大写字母"), "digit": _("数字"), "symbol": _("符号")}


def policy_problems(password: str, username: str | None = None) -> list[str]:
    """What ``password`` lacks under ``PasswordPolicy`` (length, character classes, not the username), each as
    a sentence for the person choosing it; empty when it passes."""
    rules = PASSWORDS
    problems: list[str] = []
    if len(password) < rules.min_length:
        problems.append(_("密码至少需要 %(n)d 个字符（现有 %(k)d 个）", n=rules.min_length, k=len(password)))
    present = {name for name, pattern in _CLASSES if pattern.search(password)}
    if len(present) < rules.min_classes:
        labels = _class_labels()
        problems.append(_("须包含小写字母、大写字母、数字、符号中的至少 %(n)d 类，还差 %(k)d 类（可加入：%(missing)s）",
                          n=rules.min_classes, k=rules.min_classes - len(present),
                          missing="、".join(labels[name] for name, _p in _CLASSES if name not in present)))
    if username and username.lower() in password.lower():
        problems.append(_("密码不能包含用户名"))
    return problems


def rules_summary() -> str:
    """The password rules in one sentence, for the hint beside a new-password field."""
    rules = PASSWORDS
    return _("至少 %(n)d 个字符，包含小写字母、大写字母、数字、符号中的至少 %(k)d 类，"
             "不含用户名，不与最近 %(h)d 次用过的密码相同。", n=rules.min_length, k=rules.min_classes, h=rules.history)


def check_policy(password: str, username: str | None = None) -> None:
    """Raise ServiceError ``weak_password`` when ``password`` breaks the password policy; its message lists
    everything missing at once, so one correction is enough."""
    problems = policy_problems(password, username)
    if problems:
        raise ServiceError(_("%(problems)s。", problems=_("；").join(problems)), "weak_password")


def generate_password() -> str:
    """A random password the app hands out (imports): ``PasswordPolicy.generated_length`` characters with one of
    every class, so it always passes :func:`check_policy`; look-alike characters (0/O, 1/l/I) left out because
    it is read off a list and typed by hand."""
    # No = + - @: a list of generated passwords opened in a spreadsheet must not start a formula.
    pools = ("abcdefghjkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "#%*_.!")
    chars = [secrets.choice(pool) for pool in pools]
    every = "".join(pools)
    chars += [secrets.choice(every) for _i in range(max(PASSWORDS.generated_length, PASSWORDS.min_length)
                                                     - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


# -- history and age -----------------------------------------------------------------------------------------

def check_not_reused(user: User, password: str) -> None:
    """Raise ServiceError ``reused_password`` when ``password`` is the user's current one or one of the
    previous ``PasswordPolicy.history`` − 1 (each an argon2 check: ~50 ms apiece, on a password change only)."""
    keep = PASSWORDS.history
    if keep <= 0:
        return
    earlier = db.session.execute(select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
                                 .order_by(PasswordHistory.replaced_at.desc(), PasswordHistory.id.desc())
                                 .limit(keep - 1)).scalars().all()
    if any(verify_password(h, password) for h in [user.password_hash, *earlier] if h):
        raise ServiceError(_("新密码不能与最近 %(n)d 次使用过的密码相同。", n=keep), "reused_password")


def remember_replaced(user: User, old_hash: str) -> None:
    """Keep ``old_hash`` (the password being replaced) in the user's history, dropping rows beyond what the
    reuse rule reads. Not committed here."""
    db.session.add(PasswordHistory(user_id=user.id, password_hash=old_hash, replaced_at=clock.now_utc()))
    db.session.flush()
    stale = db.session.execute(select(PasswordHistory.id).where(PasswordHistory.user_id == user.id)
                               .order_by(PasswordHistory.replaced_at.desc(), PasswordHistory.id.desc())
                               .offset(max(PASSWORDS.history, 1))).scalars().all()
    if stale:
        db.session.execute(delete(PasswordHistory).where(PasswordHistory.id.in_(stale)))


def max_age_days() -> int:
    """Days a password lasts (``ELEARN_PASSWORD_MAX_AGE_DAYS``, else the policy's); 0 when it never expires."""
    configured = current_app.config.get("ELEARN_PASSWORD_MAX_AGE_DAYS")
    return int(configured) if configured is not None else PASSWORDS.max_age_days


def password_set_at(user: User) -> datetime | None:
    """When the current password was set: when the previous one was replaced, or the account's creation."""
    replaced = db.session.execute(select(func.max(PasswordHistory.replaced_at))
                                  .where(PasswordHistory.user_id == user.id)).scalar()
    return replaced or user.created_at


def is_expired(user: User) -> bool:
    """True when password expiry is on and the user's password is older than it allows."""
    days = max_age_days()
    if days <= 0:
        return False
    since = password_set_at(user)
    return since is not None and clock.now_utc() - since > timedelta(days=days)
