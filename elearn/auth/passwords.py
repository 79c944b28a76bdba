"""Password hashing (argon2id) and the password policy."""
from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

from elearn.errors import ServiceError
from elearn.policy import PASSWORD_MIN_LENGTH

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


def check_policy(password: str, username: str | None = None) -> None:
    """Raise ServiceError when ``password`` is too weak: length, letters and digits, not the username."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ServiceError(_("密码至少需要 %(n)d 个字符。", n=PASSWORD_MIN_LENGTH), "weak_password")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise ServiceError(_("密码须同时包含字母和数字。"), "weak_password")
    if username and username.lower() in password.lower():
        raise ServiceError(_("密码不能包含用户名。"), "weak_password")
