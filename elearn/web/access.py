"""Access helpers shared by the administrative blueprints."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from elearn.services import orgs

ADMINS = ("org_admin", "site_admin")


def admin_required(view):
    """Signed in as an org admin or site admin, else 403 (object-level checks stay in the services)."""
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role not in ADMINS:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def managed_org_choices() -> list[tuple[int, str]]:
    """(id, indented name) of the organisations the current user manages, in tree order, for select fields."""
    return [(o.id, ("· " * o.depth) + o.name) for o in orgs.managed_orgs(current_user)]
