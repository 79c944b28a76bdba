"""Personal values as shown to someone who may not see them in full: ``138****1234``, ``z***@example.com``.

Who may see a member's personal fields (:func:`may_see_personal`): the member, the admins of the organisation
subtree the member belongs to now, and site admins. Everyone else (an admin of the organisation a member left,
an admin reading an audit entry of another subtree, an export for a wider audience) sees them masked.
"""
from __future__ import annotations

from typing import Any

from elearn.access import Role
from elearn.policy import PERSONAL_DATA


def mask_phone(value: str) -> str:
    """The first three and last four digits of a number, the middle starred (``13800138000`` → ``138****8000``);
    a short number keeps only its last two."""
    keep_head, keep_tail = PERSONAL_DATA.phone_visible
    if len(value) <= keep_head + keep_tail:
        return "*" * max(len(value) - 2, 0) + value[-2:]
    return value[:keep_head] + "*" * (len(value) - keep_head - keep_tail) + value[-keep_tail:]


def mask_email(value: str) -> str:
    """The first character of the local part and the whole domain (``zhang@example.com`` → ``z***@example.com``)."""
    local, at, domain = value.rpartition("@")
    if not at:
        return mask_text(value)
    return (local[:1] or "*") + "***@" + domain


def mask_text(value: str) -> str:
    """A name or free text: its first character only (``张三丰`` → ``张**``)."""
    return value[:1] + "*" * max(len(value) - 1, 1) if value else value


MASKS = {"phone": mask_phone, "email": mask_email}


def mask(field: str, value: Any) -> Any:
    """``value`` of the personal ``field`` masked (None and non-strings as they are)."""
    if not isinstance(value, str) or not value:
        return value
    return MASKS.get(field, mask_text)(value)


def may_see_personal(viewer: Any, member: Any) -> bool:
    """True when ``viewer`` may see ``member``'s personal fields in full: the member, a site admin, or an admin
    of an organisation whose subtree holds the member's current organisation."""
    if viewer is None:
        return False
    if viewer.id == member.id or viewer.role == Role.SITE_ADMIN:
        return True
    return viewer.role == Role.ORG_ADMIN and member.organisation.is_within(viewer.organisation)
