"""Exports produced by a job: the admin asks, a worker writes the file with progress, the admin downloads it.

Used for the analytics workbook, which lists every member behind pace (50,000 rows for a committee of
100,000 members takes seconds to compute and write). Only the admin who asked can download the file, and only
while they can still manage the organisation; files are removed after policy.ANALYTICS.export_keep_hours.
"""
from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from elearn import clock, spreadsheets
from elearn.analytics import dashboard as analytics
from elearn.analytics import tasks as analytics_tasks
from elearn.analytics.models import ReportExport
from elearn.audit import services as audit
from elearn.errors import Forbidden, NotFound
from elearn.extensions import db, existing
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.policy import ANALYTICS
from elearn.storage import get_storage

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def request_analytics_export(actor: User, org: Organisation) -> ReportExport:
    """Queue the dashboard workbook of ``org`` for ``actor`` (audited: it lists members by name)."""
    if not orgs.can_manage(actor, org):
        raise Forbidden(_("您无权导出该组织的统计。"))
    export = ReportExport(kind="analytics", requested_by_id=actor.id, organisation_id=org.id, status="queued",
                          created_at=clock.now_utc())
    db.session.add(export)
    db.session.flush()
    audit.record(actor, "analytics.export", export, after={"organisation_id": org.id, "organisation": org.name})
    db.session.commit()
    analytics_tasks.export_analytics.enqueue(export.id)
    db.session.refresh(export)
    return export


def get_export(actor: User, export_id: int) -> ReportExport:
    """The export ``export_id`` if ``actor`` asked for it and still manages its organisation; else 404."""
    export = db.session.get(ReportExport, export_id)
    if export is None or export.requested_by_id != actor.id:
        raise NotFound(_("导出不存在或已过期。"))
    org = db.session.get(Organisation, export.organisation_id)
    if org is None or not orgs.can_manage(actor, org):
        raise NotFound(_("导出不存在或已过期。"))
    return export


def record_download(actor: User, export: ReportExport) -> None:
    """Audit a download: the workbook lists members by name."""
    audit.record(actor, "analytics.export.download", export, after={"organisation_id": export.organisation_id,
                                                                   "filename": export.filename})
    db.session.commit()


def recent_exports(actor: User, org: Organisation, limit: int = 5) -> list[ReportExport]:
    return list(db.session.execute(
        select(ReportExport).where(ReportExport.requested_by_id == actor.id,
                                   ReportExport.organisation_id == org.id)
        .order_by(ReportExport.id.desc()).limit(limit)).scalars())


def run_analytics_export(export_id: int) -> ReportExport | None:
    """The job's body: compute the sheets, write the workbook to storage, mark it ready (or failed)."""
    from openpyxl import Workbook  # ~140 ms to import: only this job needs it

    export = db.session.get(ReportExport, export_id)
    if export is None or export.status == "ready":
        return export
    export.status, export.progress, export.error = "running", 2, None
    db.session.commit()
    try:
        actor = existing(User, export.requested_by_id)
        org = existing(Organisation, export.organisation_id)

        def computing(share: float) -> None:  # computing the figures is the first half
            _set_progress(export, 2 + int(share * 48))

        sheets = analytics.export_rows(actor, org, progress=computing)
        total = sum(len(rows) for rows in sheets.values()) or 1
        wb = Workbook(write_only=True)
        written = 0
        for title, rows in sheets.items():
            ws = wb.create_sheet(title=title[:31])
            for row in rows:
                ws.append(spreadsheets.xlsx_row(ws, row))  # member and organisation names are never formulas
                written += 1
                if written % 5000 == 0:
                    _set_progress(export, 50 + int(written / total * 45))
        export.filename = f"analytics-{org.id}-{clock.site_today().isoformat()}.xlsx"
        export.storage_key = f"exports/{export.id}/{export.filename}"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "out.xlsx"
            wb.save(path)
            with open(path, "rb") as f:
                export.size = get_storage().save(export.storage_key, f)
        export.rows = len(list(sheets.values())[-1]) - 1
        export.status, export.progress, export.finished_at = "ready", 100, clock.now_utc()
        db.session.commit()
    except Exception as exc:  # not retried: the page says it failed, and asking again starts afresh
        db.session.rollback()
        failed = db.session.get(ReportExport, export_id)
        if failed is not None:
            failed.status, failed.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
            failed.finished_at = clock.now_utc()
            db.session.commit()
        raise
    return export


def _set_progress(export: ReportExport, percent: int) -> None:
    if percent > export.progress:
        export.progress = min(percent, 99)
        db.session.commit()


def expire_exports(now: datetime | None = None) -> int:
    """Remove exports (and their files) older than policy.ANALYTICS.export_keep_hours; returns how many."""
    cutoff = (now or clock.now_utc()) - timedelta(hours=ANALYTICS.export_keep_hours)
    old = db.session.execute(select(ReportExport).where(ReportExport.created_at < cutoff)).scalars().all()
    storage = get_storage()
    for export in old:
        storage.delete(f"exports/{export.id}")
        db.session.delete(export)
    db.session.commit()
    return len(old)
