"""A member's phone number and e-mail address: what is accepted, and the form it is stored in.

One rule for the member form and the bulk import. Each function returns the value to store, or raises
:class:`~elearn.errors.ServiceError` with a message naming what was wrong.
"""
from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import String

from elearn.errors import ServiceError
from elearn.orgs.models import User
from elearn.security.fields import EncryptedText


def stored_length(field: str) -> int:
    """How many characters the member's column ``field`` holds (PostgreSQL refuses longer values; an encrypted
    column's own limit on the plain value, as its ciphertext is longer)."""
    column_type = User.__table__.c[field].type
    assert isinstance(column_type, (String, EncryptedText)) and column_type.length, \
        f"{field} is a String of a fixed length"
    return column_type.length


EMAIL_MAX = stored_length("email")

# Typed on a Chinese keyboard, digits and signs are often full-width: read as their ASCII forms.
_FULL_WIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                             "＋": "+", "－": "-", "（": "(", "）": ")", "\u3000": " "})
_SEPARATORS = re.compile(r"[ \-()]")
_MOBILE = re.compile(r"(?:\+86|0086|86)?(1[3-9][0-9]{9})")  # mainland mobile, with or without the country code
_LANDLINE = re.compile(r"0[1-9][0-9]{8,10}")  # area code (0 and 2–3 digits) and a 7–8 digit number
_INTERNATIONAL = re.compile(r"\+[1-9][0-9]{6,14}")  # E.164: a country code and at most 15 digits


def phone(value: str) -> str:
    """A phone number as stored: a mainland mobile as its 11 digits (``+86 138-0013-8000`` → ``13800138000``),
    a landline with its area code, or an international number with ``+``; spaces, hyphens and brackets
    between the digits are dropped.

    Raises:
        ServiceError ``bad_phone``: anything else (letters, too few or too many digits, digits such as "²").
    """
    compact = _SEPARATORS.sub("", value.strip().translate(_FULL_WIDTH))
    mobile = _MOBILE.fullmatch(compact)
    if mobile:
        return mobile.group(1)
    if _LANDLINE.fullmatch(compact) or (_INTERNATIONAL.fullmatch(compact) and not compact.startswith("+86")):
        return compact
    raise ServiceError(_("手机号“%(p)s”格式不正确：请填写 11 位手机号，或带区号的固定电话。", p=_shown(value)),
                       "bad_phone")


def email(value: str) -> str:
    """An e-mail address as stored (its domain in lower case), checked for its form only: no DNS look-up.

    Raises:
        ServiceError ``bad_email``: not an address, or longer than the column holds.
    """
    # email-validator (and the DNS library it brings) costs ~35 ms to import: only saving an address needs it
    from email_validator import EmailNotValidError, validate_email

    try:
        normalized = validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        normalized = None
    if normalized is None or len(normalized) > EMAIL_MAX:
        raise ServiceError(_("电子邮箱“%(e)s”格式不正确。", e=_shown(value)), "bad_email")
    return normalized


def _shown(value: str) -> str:
    """The value as quoted back in a message: at most 40 characters."""
    value = value.strip()
    return value if len(value) <= 40 else value[:39] + "…"
