"""Study points pages: my points (``/me/points``), a branch's ranking of this year's points, and the admins'
ranking switch per organisation."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from elearn import clock
from elearn.access import ADMINS
from elearn.branch import officers
from elearn.errors import NotFound, ServiceError
from elearn.extensions import db
from elearn.http.errors import status_for
from elearn.http.schemas import int_arg
from elearn.orgs import services as orgs
from elearn.points import awards, ranking
from elearn.policy import ORG_KINDS, POINTS

bp = Blueprint("points", __name__)


@bp.get("/me/points")
@login_required
def mine() -> str:
    """My study points: in all and this year, today against the daily cap, my streak, the rules in words, my
    recent awards, and my place in my branch's ranking while it is switched on."""
    own = current_user.organisation
    shown = [own] if ranking.may_see(current_user, own) else []
    shown += [o for o in officers.secretary_orgs(current_user) if o.id != own.id]
    return render_template("points/mine.html", summary=awards.summary(current_user), rules=POINTS,
                           place=ranking.my_place(current_user), rankings=shown)


@bp.get("/points/organisations/<int:org_id>/ranking")
@login_required
def branch_ranking(org_id: int) -> str:
    """This year's points of the organisation's members, best first (equal points, equal rank): for its members
    while the ranking is on, for whoever runs the branch always."""
    try:
        org = ranking.visible_org(current_user, org_id)
    except NotFound:
        abort(404)
    return render_template("points/ranking.html", org=org, rows=ranking.branch_ranking(org),
                           on=ranking.effective(org), runs=officers.may_manage_branch(current_user, org),
                           year=clock.site_today().year, may_set=orgs.can_manage(current_user, org))


def _settings_page(status: int = 200) -> tuple[str, int]:
    explicit = ranking.all_choices()
    rows = [{"org": o, "choice": ("on" if explicit[o.id] else "off") if o.id in explicit else "inherit",
             "on": ranking.effective(o, explicit)} for o in orgs.managed_orgs(current_user)]
    return render_template("points/settings.html", rows=rows, kind_labels=ORG_KINDS), status


@bp.route("/points/settings", methods=["GET", "POST"])
@login_required
def settings() -> Response | tuple[str, int]:
    """The branch ranking switch of each organisation I administer: on, off, or as the organisation above."""
    if current_user.role not in ADMINS:
        abort(403)
    if request.method == "GET":
        return _settings_page()
    try:
        org_id = int_arg(request.form, "org_id", code="bad_form")
        if org_id is None:
            raise ServiceError(_("请求无效。"), "bad_form")
        org = orgs.managed_org(current_user, org_id)
        changed = ranking.set_choice(current_user, org, request.form.get("choice"))
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _settings_page(status_for(exc))
    if changed:
        flash(_("已更新“%(org)s”的积分排行设置。", org=org.name), "success")
    return redirect(url_for("points.settings"))
