"""Participation analytics: the organisation dashboard with drill-down, and its XLSX export."""
from __future__ import annotations

import io
from datetime import date

from flask import Blueprint, abort, render_template, request, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from elearn.services import analytics
from elearn.web import charts

bp = Blueprint("analytics", __name__, url_prefix="/analytics")

ADMINS = ("org_admin", "site_admin")
# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV = [("analytics.dashboard", _l("学习分析"), ADMINS)]


def _org():
    if current_user.role not in ADMINS:
        abort(403)
    return analytics.get_org(current_user, request.args.get("org", type=int))


def _pct(x):
    return f"{x * 100:.0f}%" if x is not None else "—"


def _charts(d: dict) -> dict:
    s = d["summary"]
    out = {
        "pace": charts.share_bar([(_("进度正常"), s["on_pace"], "chart-ok"),
                                  (_("进度落后"), s["at_risk"], "chart-bad"),
                                  (_("免予要求"), s["exempt"], "chart-muted")], _("学时进度")),
        "histogram": charts.columns([(b["label"], b["count"]) for b in d["histogram"]], _("学时分布（人数）")),
        "monthly": charts.line([(m["month"][2:], m["hours"]) for m in d["monthly"]], _("月度学时"),
                               secondary=[m["theory_hours"] for m in d["monthly"]]),
    }
    if d["children"]:
        out["children"] = charts.hbars([(c["name"], (c["on_pace_share"] or 0) * 100, _pct(c["on_pace_share"]))
                                        for c in d["children"]], _("下级组织进度正常占比"), max_value=100)
    if d["sectors"]:
        out["sectors"] = charts.hbars([(x["label"], x["avg_hours"] or 0, f"{x['avg_hours'] or 0:.1f}")
                                       for x in d["sectors"]], _("各领域人均学时"))
    if d["series"]:
        out["series"] = charts.hbars([(x["title"], x["completed"], str(x["completed"])) for x in d["series"]],
                                     _("专题完成人数"))
    return out


@bp.route("/")
@login_required
def dashboard():
    """The dashboard of an organisation's subtree (default: the admin's own), with links to drill down."""
    org = _org()
    data = analytics.dashboard(current_user, org)
    return render_template("analytics/dashboard.html", d=data, charts=_charts(data), pct=_pct)


@bp.route("/export.xlsx")
@login_required
def export():
    """The dashboard's figures and every at-risk member as an XLSX workbook."""
    from openpyxl import Workbook

    org = _org()
    sheets = analytics.export_rows(current_user, org)
    wb = Workbook(write_only=True)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title=title[:31])
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    name = f"analytics-{org.id}-{date.today().isoformat()}.xlsx"
    return send_file(buf, as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
