"""Participation analytics: the organisation dashboard with drill-down, snapshots, and XLSX exports by job."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from elearn.access import Role
from elearn.analytics import charts
from elearn.analytics import dashboard as analytics
from elearn.analytics import exports as report_exports
from elearn.analytics import sources as snapshots
from elearn.http.schemas import int_arg
from elearn.storage import get_storage

bp = Blueprint("analytics", __name__, url_prefix="/analytics")

ADMINS = (Role.ORG_ADMIN, Role.SITE_ADMIN)
# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV = [("analytics.dashboard", _l("学习分析"), ADMINS)]

EXPORT_STATUS = {"queued": _l("排队中"), "running": _l("正在生成"), "ready": _l("已完成"), "failed": _l("失败")}


def _admin() -> None:
    if current_user.role not in ADMINS:
        abort(403)


def _org():
    _admin()
    return analytics.get_org(current_user, int_arg(request.args, "org"))


def _pct(x):
    return f"{x * 100:.0f}%" if x is not None else "—"


def _charts(d: dict) -> dict:
    s = d["summary"]
    out = {
        "pace": charts.share_bar([(_("进度正常"), s["on_pace"], "chart-ok"),
                                  (_("进度落后"), s["at_risk"], "chart-bad"),
                                  (_("免予要求"), s["exempt"], "chart-muted")], _("学时进度"),
                                 headers=(_("进度"), _("人数"), _("占比"))),
        "histogram": charts.columns([(b["label"], b["count"]) for b in d["histogram"]], _("学时分布（人数）"),
                                    headers=(_("学时"), _("人数"))),
        "monthly": charts.line([(m["month"][2:], m["hours"]) for m in d["monthly"]], _("月度学时"),
                               secondary=[m["theory_hours"] for m in d["monthly"]],
                               headers=(_("月份"), _("全部学时"), _("党的创新理论学时"))),
    }
    if d["children"]:
        out["children"] = charts.hbars([(c["name"], (c["on_pace_share"] or 0) * 100, _pct(c["on_pace_share"]))
                                        for c in d["children"]], _("下级组织进度正常占比"), max_value=100)
    if d["sectors"]:
        out["sectors"] = charts.hbars([(x["label"], x["avg_hours"] or 0, f"{x['avg_hours'] or 0:.1f}")
                                       for x in d["sectors"]], _("各领域人均学时"),
                                      headers=(_("领域"), _("人均学时")))
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
    exports = report_exports.recent_exports(current_user, org)
    if "summary" not in data:  # a large subtree and no snapshot yet: show the one being computed
        return render_template("analytics/pending.html", d=data, status=EXPORT_STATUS)
    return render_template("analytics/dashboard.html", d=data, charts=_charts(data), pct=_pct, exports=exports,
                           export_status=EXPORT_STATUS)


def _snapshot_json(snap) -> dict:
    if snap is None:
        return {"status": "none", "progress": 0}
    return {"id": snap.id, "status": snap.status, "progress": snap.progress,
            "label": str(EXPORT_STATUS.get(snap.status, snap.status)),
            "finished_at": snap.finished_at.isoformat() + "Z" if snap.finished_at else None}


@bp.route("/snapshot", methods=["POST"])
@login_required
def refresh():
    """Queue a fresh snapshot of the figures (one at a time) and go back to the dashboard."""
    org = _org()
    snapshots.refresh_now()
    return redirect(url_for("analytics.dashboard", org=org.id))


@bp.route("/snapshot.json")
@login_required
def snapshot_status():
    """The snapshot being computed (or else the latest), for the page's progress bar."""
    _admin()
    return jsonify(_snapshot_json(snapshots.snapshot_state()))


@bp.route("/exports", methods=["POST"])
@login_required
def export():
    """Queue the dashboard's figures and every at-risk member as an XLSX workbook; show its progress."""
    org = _org()
    job = report_exports.request_analytics_export(current_user, org)
    return redirect(url_for("analytics.export_page", export_id=job.id))


def _export_json(job) -> dict:
    return {"id": job.id, "status": job.status, "progress": job.progress,
            "label": str(EXPORT_STATUS.get(job.status, job.status)), "rows": job.rows, "error": job.error,
            "note": _("含进度落后党员 %(n)d 人。", n=job.rows) if job.status == "ready" else "",
            "download_url": url_for("analytics.download", export_id=job.id) if job.status == "ready" else None}


@bp.route("/exports/<int:export_id>")
@login_required
def export_page(export_id: int):
    _admin()
    job = report_exports.get_export(current_user, export_id)
    if request.accept_mimetypes.best == "application/json" or request.args.get("format") == "json":
        return jsonify(_export_json(job))
    return render_template("analytics/export.html", job=job, status=EXPORT_STATUS)


@bp.route("/exports/<int:export_id>/download")
@login_required
def download(export_id: int):
    _admin()
    job = report_exports.get_export(current_user, export_id)
    if job.status != "ready" or not job.storage_key:
        abort(404)
    report_exports.record_download(current_user, job)
    return send_file(get_storage().path(job.storage_key), as_attachment=True, download_name=job.filename,
                     mimetype=report_exports.XLSX_MIME)
