"""The notification centre (``/notifications``): my notifications, newest first, marked read one by one or
all at once; the number unread is the badge of its entry in the top navigation."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from elearn.extensions import db
from elearn.http.forms import attempt
from elearn.http.schemas import int_arg
from elearn.notify import services as notify
from elearn.policy import NOTIFICATIONS_PAGE_SIZE

bp = Blueprint("notify", __name__)
NAV = [("notify.centre", _l("通知"), None, notify.unread_count)]


def _safe_link(link: str | None) -> str | None:
    """Only paths inside the site are followed (a link is stored by code, but never trusted to leave it)."""
    if link and link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return None


@bp.route("/notifications")
@login_required
def centre():
    """My notifications, newest first, a page at a time; ``?unread=1`` for the unread ones only."""
    unread_only = request.args.get("unread") == "1"
    page = max(int_arg(request.args, "page", 1) or 1, 1)
    stmt = notify.list_stmt(current_user, unread_only=unread_only)
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(NOTIFICATIONS_PAGE_SIZE)
                              .offset((page - 1) * NOTIFICATIONS_PAGE_SIZE)).scalars().all()
    items = [{"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "link": _safe_link(n.link),
              "created_at": n.created_at, "read": n.read_at is not None} for n in rows]
    return render_template("notify/centre.html", items=items, page=page, unread_only=unread_only,
                           pages=max((total + NOTIFICATIONS_PAGE_SIZE - 1) // NOTIFICATIONS_PAGE_SIZE, 1),
                           total=total)


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id: int):
    """Mark one notification read; with ``open=1``, go on to what it links to."""
    row = attempt(lambda: notify.mark_read(current_user, notification_id))
    if row is not None and request.form.get("open") == "1" and _safe_link(row.link):
        return redirect(_safe_link(row.link) or url_for("notify.centre"))
    return redirect(url_for("notify.centre"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all():
    """Mark all my notifications read."""
    attempt(lambda: notify.mark_all_read(current_user))
    return redirect(url_for("notify.centre"))
