"""The age-friendly mode's page (``/account/age-friendly``): what it changes, and the switch. The account menu
of every page posts to the same route (one tap, back to the page it was on)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn.auth import age_friendly
from elearn.auth.views import _safe_next
from elearn.errors import ServiceError

bp = Blueprint("age_friendly", __name__)
bp.app_context_processor(age_friendly.template_context)


@bp.route("/account/age-friendly", methods=["GET", "POST"])
@login_required
def settings():
    """Show the age-friendly mode and switch it: ``mode=on`` or ``mode=off`` (anything else is a 400 with the
    page and its message, nothing changed); then back to ``next`` (a path of this site) or this page."""
    error = None
    if request.method == "POST":
        try:
            on = age_friendly.set_mode(current_user, age_friendly.choice(request.form.get("mode")))
        except ServiceError as exc:
            error = exc.message
        else:
            flash(_("已开启适老模式：字更大、按钮更大，首页只显示最要紧的内容。") if on else _("已关闭适老模式。"),
                  "success")
            target = request.form.get("next")
            return redirect(_safe_next(target) if target else url_for("age_friendly.settings"))
    return render_template("auth/age_friendly.html", on=age_friendly.is_on(current_user), error=error), \
        400 if error else 200
