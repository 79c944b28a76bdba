"""The notification centre (``/notifications``): my notifications, newest first, marked read one by one or
all at once; the number unread is the badge of its entry in the top navigation. My e-mail choices per kind
(``/notifications/settings``); announcements: an org admin's list with read counts and the form to publish one,
and a member's page of one announcement (opening it marks it read)."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import func, select

from elearn.access import ADMINS
from elearn.errors import NotFound
from elearn.extensions import db
from elearn.http.forms import attempt
from elearn.http.schemas import int_arg
from elearn.notify import announcements, kinds
from elearn.notify import services as notify
from elearn.orgs import services as orgs
from elearn.policy import MEMBER_CATEGORIES, NOTIFICATIONS_PAGE_SIZE, NOTIFY, SECTORS

bp = Blueprint("notify", __name__)
NAV = [("notify.centre", _l("通知"), None, notify.unread_count),
       ("notify.announcements_admin", _l("公告"), ADMINS)]


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


@bp.route("/notifications/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Which kinds of notification also reach me by e-mail, and whether I take one digest a day instead."""
    if request.method == "POST":
        chosen = {code: request.form.get(f"email_{code}") == "1" for code in kinds.KINDS}
        chosen[kinds.DIGEST] = request.form.get("digest") == "1"
        if attempt(lambda: notify.set_preferences(current_user, chosen), _("通知设置已保存。")) is not None:
            return redirect(url_for("notify.settings"))
    prefs = notify.my_preferences(current_user)
    rows = [{"code": code, "label": k.label, "email": prefs[code]} for code, k in kinds.KINDS.items()]
    return render_template("notify/settings.html", rows=rows, digest=prefs[kinds.DIGEST],
                           digest_hour=NOTIFY.digest_hour, email_on_file=bool(current_user.email))


@bp.route("/notifications/announcements")
@login_required
def announcements_admin():
    """The announcements of the organisations I manage, newest first, with how many of their audience read them."""
    if current_user.role not in ADMINS:
        abort(403)
    rows = [{"id": s.announcement.id, "title": s.announcement.title, "organisation": s.organisation,
             "published_at": s.announcement.published_at, "edited_at": s.announcement.edited_at,
             "withdrawn_at": s.announcement.withdrawn_at, "audience": s.audience, "readers": s.readers,
             "share": round(s.read_share * 100)} for s in announcements.published_by_me(current_user)]
    return render_template("notify/announcements.html", rows=rows)


@bp.route("/notifications/announcements/new", methods=["GET", "POST"])
@login_required
def announcement_new():
    """Publish an announcement to an organisation I manage and its subtree, optionally to some sectors and
    member categories only."""
    if current_user.role not in ADMINS:
        abort(403)
    choices = orgs.managed_org_choices(current_user)
    title, body = request.form.get("title", ""), request.form.get("body", "")
    sectors, categories = request.form.getlist("sectors"), request.form.getlist("categories")
    if request.method == "POST" and attempt(lambda: announcements.publish(
            current_user, orgs.managed_org(current_user, int_arg(request.form, "organisation_id")), title=title,
            body=body, sectors=sectors, categories=categories), _("公告已发布，正在通知相关党员。")) is not None:
        return redirect(url_for("notify.announcements_admin"))
    form = {"title": title, "body": body, "organisation_id": request.form.get("organisation_id", ""),
            "sectors": sectors, "categories": categories}
    return render_template("notify/announcement_new.html", form=form, org_choices=choices,
                           sectors=list(SECTORS.items()), categories=list(MEMBER_CATEGORIES.items()),
                           title_max=NOTIFY.announcement_title_max, body_max=NOTIFY.announcement_body_max)


@bp.route("/notifications/announcements/<int:announcement_id>/edit", methods=["GET", "POST"])
@login_required
def announcement_edit(announcement_id: int):
    """Change the title and body of an announcement I wrote or that an organisation I manage published; the
    members see the new text, marked as edited. Others' announcements are not found; members are refused."""
    row = announcements.managed(current_user, announcement_id)  # Forbidden → 403, NotFound → 404
    if row.withdrawn_at is not None:
        abort(404)
    title, body = request.form.get("title", row.title), request.form.get("body", row.body_source)
    if request.method == "POST" and attempt(lambda: announcements.edit(current_user, row.id, title=title, body=body),
                                            _("公告已修改。")) is not None:
        return redirect(url_for("notify.announcements_admin"))
    return render_template("notify/announcement_edit.html", id=row.id, form={"title": title, "body": body},
                           title_max=NOTIFY.announcement_title_max, body_max=NOTIFY.announcement_body_max)


@bp.route("/notifications/announcements/<int:announcement_id>/withdraw", methods=["POST"])
@login_required
def announcement_withdraw(announcement_id: int):
    """Withdraw an announcement (撤回): it leaves the members' notifications; its read count stays here."""
    announcements.managed(current_user, announcement_id)  # Forbidden → 403, NotFound → 404
    attempt(lambda: announcements.withdraw(current_user, announcement_id), _("公告已撤回。"))
    return redirect(url_for("notify.announcements_admin"))


@bp.route("/notifications/announcements/<int:announcement_id>")
@login_required
def announcement(announcement_id: int):
    """One announcement to me; opening it marks it read."""
    try:
        row = announcements.open_announcement(current_user, announcement_id)
    except NotFound:
        abort(404)
    body = Markup(row.body)  # sanitised when published or edited (announcements.publish, .edit)
    return render_template("notify/announcement.html", title=row.title, published_at=row.published_at,
                           edited_at=row.edited_at, body=body)
