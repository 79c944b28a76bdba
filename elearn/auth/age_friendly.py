"""Age-friendly mode (适老化): a member's choice, kept on their account (``User.age_friendly``), of larger text,
higher contrast, bigger touch targets and a simplified home. Every page of a member who chose it carries
``<html class="elder">`` (the ``age_friendly`` template variable, set for every template by
:func:`template_context`), which the stylesheet's age-friendly section (static/css/site.css) follows; the home
(elearn.site.views) shows its short version.

Like the interface language, it is a display preference of the member's own: not audited (the password, sign-in
and token changes are)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_login import current_user

from elearn.errors import ServiceError
from elearn.extensions import db
from elearn.orgs.models import User

# What the page form sends for each choice.
CHOICES = {"on": True, "off": False}


def is_on(user: Any) -> bool:
    """Whether ``user`` (a signed-in user, or flask-login's anonymous one) sees the age-friendly mode."""
    return bool(getattr(user, "is_authenticated", False) and user.age_friendly)


def choice(value: str | None) -> bool:
    """The form's ``mode`` (``on`` or ``off``) as the setting. Raises ServiceError ``bad_mode`` (400) for
    anything else, so a mangled form changes nothing."""
    if value not in CHOICES:
        raise ServiceError(_("请选择开启或关闭适老模式。"), "bad_mode")
    return CHOICES[value]


def set_mode(user: User, on: bool) -> bool:
    """Turn the age-friendly mode of ``user``'s account on or off (setting it as it is changes nothing)."""
    if user.age_friendly != on:
        user.age_friendly = on
        db.session.commit()
    return user.age_friendly


def template_context() -> dict[str, bool]:
    """For every template: ``age_friendly``, whether the signed-in user chose the mode (base.html sets the class
    of ``<html>`` from it; the account menu's toggle says which way it switches)."""
    return {"age_friendly": is_on(current_user)}
