"""Political birthday pages: the member's own (``/me/political-birthday``: the oath, years in the party, renewing
the oath) and a branch's month (``/branch/<org_id>/birthdays?month=YYYY-MM``, for those who may manage it)."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn import clock
from elearn.branch import birthdays
from elearn.errors import ServiceError
from elearn.http.forms import attempt
from elearn.orgs import services as orgs
from elearn.policy import CHECKIN

bp = Blueprint("birthdays", __name__)


@bp.route("/me/political-birthday")
@login_required
def mine():
    """My political birthday: the oath of joining the party and my years in it."""
    return render_template("branch/birthday_mine.html", me=birthdays.my_birthday(current_user), oath=CHECKIN.oath)


@bp.route("/me/political-birthday/renew", methods=["POST"])
@login_required
def renew():
    """I have renewed the oath (重温入党誓词): recorded once a year."""
    attempt(lambda: birthdays.renew_oath(current_user), _("已记录：您重温了入党誓词。"))
    return redirect(url_for("birthdays.mine"))


def _month(raw: str | None) -> tuple[int, int]:
    today = clock.site_today()
    if not raw:
        return today.year, today.month
    year, sep, month = raw.strip().partition("-")
    if not sep or not (year.isascii() and year.isdigit() and month.isascii() and month.isdigit()) \
            or len(year) != 4 or not 1 <= int(month) <= 12:
        raise ServiceError(_("月份格式应为 年-月，例如 2026-07。"), "bad_month")
    return int(year), int(month)


@bp.route("/branch/<int:org_id>/birthdays")
@login_required
def branch_month(org_id: int):
    """The month's political birthdays of a branch's members (``?month=2026-07``, default this month)."""
    org = orgs.get(org_id)
    year, month = _month(request.args.get("month"))
    rows = birthdays.birthdays_in_month(current_user, org, year, month)
    prev_m = (year, month - 1) if month > 1 else (year - 1, 12)
    next_m = (year, month + 1) if month < 12 else (year + 1, 1)
    return render_template("branch/birthday_month.html", org=org, year=year, month=month, rows=rows,
                           prev_month=f"{prev_m[0]:04d}-{prev_m[1]:02d}", next_month=f"{next_m[0]:04d}-{next_m[1]:02d}")
