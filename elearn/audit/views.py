"""The audit log: filtered and paged for admins (site admins see all, org admins the actions of actors in their
subtree), and its CSV/XLSX export."""
from __future__ import annotations

import io
import json
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from elearn import clock, spreadsheets
from elearn.access import Role, admin_required, roles_required
from elearn.audit import services as audit
from elearn.errors import ServiceError
from elearn.extensions import db
from elearn.http.schemas import int_arg
from elearn.i18n import local_time
from elearn.policy import (
    AUDIT_ACTIONS,
    AUDIT_PAGE_SIZE,
    AUDIT_RETENTION_DAYS,
    SECURITY_ALERT_ACTIONS,
)

bp = Blueprint("audit", __name__)

AUDIT_FILTERS = ("action", "who", "since", "until")
AUDIT_EXPORT_MAX = 50_000  # rows in an export of the audit log


def audit_query_from_args() -> audit.AuditQuery:
    """The audit log's filters from the query string (invalid dates are ignored)."""
    def day(name):
        try:
            return date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return None
    return audit.AuditQuery(action=request.args.get("action", "")[:60], who=request.args.get("who", "")[:100],
                            since=day("since"), until=day("until"))


@bp.route("/admin/audit")
@admin_required
def audit_log():
    """The audit log, filtered and paged: site admins see all, org admins the actions of actors in their
    subtree."""
    query = audit_query_from_args()
    page = int_arg(request.args, "page", 1) or 1
    rows = audit.search(current_user, query, offset=(page - 1) * AUDIT_PAGE_SIZE, limit=AUDIT_PAGE_SIZE + 1)
    args = {k: request.args[k] for k in AUDIT_FILTERS if request.args.get(k)}
    return render_template("audit/audit.html", rows=rows[:AUDIT_PAGE_SIZE], has_next=len(rows) > AUDIT_PAGE_SIZE,
                           page=page, query=query, args=args, actions=AUDIT_ACTIONS, changes=audit.changes,
                           export_max=AUDIT_EXPORT_MAX)


# -- audit log export -------------------------------------------------------------------------------------------

def _audit_rows():
    """The audit log as the admin filtered it on the page (same filters, same scope: org admins see actions by
    actors of their subtree), newest first, with actor names and readable changes — at most AUDIT_EXPORT_MAX."""
    query = audit_query_from_args()
    if (request.args.get("since") and query.since is None) or (request.args.get("until") and query.until is None):
        abort(400)
    head = [_("时间"), _("操作人"), _("用户名"), _("操作"), _("操作代码"), _("对象类型"), _("对象编号"), _("之前"),
            _("之后")]
    rows = [head]
    for e, name, username in audit.search(current_user, query, limit=AUDIT_EXPORT_MAX):
        rows.append([local_time(e.at, seconds=True), name or _("系统"), username or "",
                     str(AUDIT_ACTIONS.get(e.action, e.action)),
                     e.action, e.object_type, e.object_id,
                     json.dumps(e.before, ensure_ascii=False) if e.before else "",
                     json.dumps(e.after, ensure_ascii=False) if e.after else ""])
    return rows


@bp.route("/org/audit/export")
@admin_required
def audit_export():
    """The audit log as ``?format=xlsx`` (default) or ``csv``, with the page's filters (action, who, since,
    until)."""
    fmt = request.args.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        abort(400)
    rows = _audit_rows()
    # Exporting the log is itself a security event.
    audit.record(current_user, "audit.export", current_user, after={"format": fmt, "rows": len(rows) - 1,
                 **{k: request.args[k] for k in AUDIT_FILTERS if request.args.get(k)}})
    db.session.commit()
    stamp = clock.site_today().isoformat()
    if fmt == "csv":
        return Response(spreadsheets.csv_bytes(rows), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename=audit-{stamp}.csv"})
    from openpyxl import Workbook  # ~140 ms at start for every process: only this export needs it
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("审计日志"))
    for r in rows:
        ws.append(spreadsheets.xlsx_row(ws, r))
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return send_file(buf, as_attachment=True, download_name=f"audit-{stamp}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# -- security alerts ------------------------------------------------------------------------------------------

@bp.route("/admin/security/alerts")
@roles_required(Role.SITE_ADMIN)
def security_alerts():
    """Security alerts not yet handled (repeated sign-in failures, a broken ledger chain), for site admins."""
    return render_template("audit/alerts.html", alerts=audit.open_alerts(), labels=SECURITY_ALERT_ACTIONS,
                           changes=audit.changes, retention_days=AUDIT_RETENTION_DAYS)


@bp.post("/admin/security/alerts/<int:alert_id>/handled")
@roles_required(Role.SITE_ADMIN)
def handle_security_alert(alert_id: int):
    """Mark an alert handled, with a note of what was done."""
    try:
        audit.handle_alert(current_user, alert_id, request.form.get("note", ""))
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("已标记为已处理。"), "success")
    return redirect(url_for("audit.security_alerts"))
