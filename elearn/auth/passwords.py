"""Password hashing (argon2id) and the password policy."""
from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

from elearn.errors import ServiceError
from elearn.policy import PASSWORD_MIN_LENGTH

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


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
