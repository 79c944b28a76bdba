"""The evaluation report's pages: ``/analytics/evaluation`` (HTML, printable) and ``/analytics/evaluation.pdf``.

Who may open it: admins over the organisation (org admins of it or above, site admins) and the secretary or
deputy of a branch for that branch (elearn.branch.officers.may_manage_branch)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn.analytics import charts, evaluation
from elearn.analytics.evaluation_pdf import report_pdf, section_titles
from elearn.analytics.queries import Scope, at_risk_rows, risk_row
from elearn.branch.officers import managed_branches, may_manage_branch, secretary_orgs
from elearn.errors import Forbidden, NotFound
from elearn.extensions import db
from elearn.http.schemas import int_arg
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation
from elearn.policy import ANALYTICS, EVALUATION, MEMBER_CATEGORIES, POLICY

bp = Blueprint("evaluation", __name__, url_prefix="/analytics")


def pct(x: float | None) -> str:
    return f"{x * 100:.1f}%" if x is not None else "—"


def num(x: float | None) -> str:
    return f"{x:.1f}" if x is not None else "—"


def _choices() -> list[Organisation]:
    """The organisations the signed-in user may evaluate: committees and general branches they administer,
    and the branches they run (every branch of a large tree would not fit one list)."""
    managed = managed_branches(current_user)
    if not managed:
        raise Forbidden(_("只有组织管理员和支部书记可以查看评估报告。"))
    run = {o.id for o in secretary_orgs(current_user)}
    shown = [o for o in managed if o.kind != "branch" or o.id in run or o.id == current_user.organisation_id]
    return shown or managed


def _org(choices: list[Organisation]) -> Organisation:
    org_id = int_arg(request.args, "org")
    if org_id is None:
        return choices[0]
    org = db.session.get(Organisation, org_id)
    if org is None or not may_manage_branch(current_user, org):
        raise NotFound(_("组织不存在。"))
    return org


def _period() -> tuple[date, date]:
    return evaluation.parse_period(request.args.get("start"), request.args.get("end"), request.args.get("preset"))


def report_charts(r: evaluation.EvaluationReport) -> dict:
    """The report's charts as inline SVG (every figure is in a table beside it)."""
    out = {
        "coverage": charts.hbars([(c.label, (c.share or 0) * 100, pct(c.share)) for c in [r.coverage,
                                  *r.coverage_by_kind]], _("参训率（应训尽训）"), max_value=100),
        "categories": charts.hbars([(c.label, (c.met_share or 0) * 100, pct(c.met_share)) for c in r.categories],
                                   _("各类党员达到折算目标的比例"), max_value=100),
        "theory": charts.share_bar([(_("党的创新理论"), r.theory.theory_hours, "chart-ok"),
                                    (_("其他内容"), max(0.0, r.theory.hours - r.theory.theory_hours),
                                     "chart-muted")], _("创新理论学时占比")),
    }
    if any(y.secretaries for y in r.secretaries):
        out["secretaries"] = charts.hbars([(str(y.year), (y.met_share or 0) * 100, pct(y.met_share))
                                           for y in r.secretaries], _("书记脱产培训达标比例（按年）"), max_value=100)
    if r.children:
        out["children"] = charts.hbars([(c.name, (c.coverage or 0) * 100, pct(c.coverage)) for c in r.children],
                                       _("下级组织参训率"), max_value=100)
    if r.meetings:
        out["meetings"] = charts.hbars([(m["label"], m["held"], f"{m['held']}/{m['expected']}")
                                        for m in r.meetings], _("组织生活召开次数（实际/应开）"))
    return out


@bp.route("/evaluation")
@login_required
def report():
    """The evaluation report of an organisation over a period (mid-term or five-year presets), printable."""
    choices = _choices()
    org = _org(choices)
    presets = evaluation.presets()
    start_arg, end_arg = request.args.get("start", ""), request.args.get("end", "")
    ctx = {"org": org, "choices": choices, "presets": presets, "pct": pct, "num": num, "policy": POLICY,
           "categories": MEMBER_CATEGORIES, "max_years": EVALUATION.max_period_days // 366}
    try:
        start, end = _period()
    except evaluation.BadPeriod as exc:
        return render_template("analytics/evaluation.html", error=exc.message, start=start_arg, end=end_arg,
                               r=None, **ctx), 400
    r = evaluation.build_report(org, start, end)
    names = None
    if orgs.can_manage(current_user, org):  # as on the dashboard: names for the organisation's admins only
        names = [risk_row(x) for x in at_risk_rows(Scope.of(org, r.as_of), ANALYTICS.at_risk_limit)]
    return render_template("analytics/evaluation.html", r=r, charts=report_charts(r), start=start.isoformat(),
                           end=end.isoformat(), error=None, names=names,
                           section_titles=section_titles(r), **ctx)


@bp.route("/evaluation.pdf")
@login_required
def report_as_pdf():
    """The same report as an A4 PDF (counts only, never names)."""
    org = _org(_choices())
    start, end = _period()
    r = evaluation.build_report(org, start, end)
    body = report_pdf(r)
    filename = f"evaluation-{org.id}-{start.isoformat()}-{end.isoformat()}.pdf"
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})
