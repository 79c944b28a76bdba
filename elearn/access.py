"""Roles and the role checks of views. Object-level rules (which organisation, whose course) stay in the
domains' services; this module only answers "may this kind of user open this kind of page"."""
from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required


class Role(StrEnum):
    """A user's role (stored as its value in ``user_account.role``)."""

    MEMBER = "member"
    LECTURER = "lecturer"
    ORG_ADMIN = "org_admin"
    SITE_ADMIN = "site_admin"


ADMINS = (Role.ORG_ADMIN, Role.SITE_ADMIN)
EDITORS = (Role.LECTURER, Role.SITE_ADMIN)  # lecturers and site admins write courses and readings

F = TypeVar("F", bound=Callable[..., Any])


def has_role(user: Any, *roles: Role) -> bool:
    """Signed in, active and holding one of ``roles``."""
    return bool(user is not None and user.is_authenticated and user.role in roles)


def is_site_admin(user: Any) -> bool:
    return has_role(user, Role.SITE_ADMIN)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """A view for signed-in users of ``roles`` only: sign-in page for the anonymous, 403 for other roles."""
    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped  # type: ignore[return-value]
    return decorate


admin_required = roles_required(*ADMINS)
admin_required.__doc__ = "Signed in as an org admin or site admin, else 403 (object-level checks stay in the services)."
