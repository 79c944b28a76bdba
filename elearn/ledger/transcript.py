"""Transcripts of a member's study hours: CSV, XLSX and a printable PDF certificate.

Each builder takes the member and returns bytes; nothing is written to disk. The PDF is a verifiable
certificate (elearn.ledger.certificates issues and signs it, elearn.ledger.certificate_pdf draws it).
"""
from __future__ import annotations

import io
import json

from flask import current_app, url_for
from flask_babel import gettext as _

from elearn import clock, spreadsheets
from elearn.community import notes as study_notes
from elearn.ledger import certificate_pdf as certificate_pdf_drawing
from elearn.ledger import certificates, requirements
from elearn.ledger import services as ledger
from elearn.ledger.models import Certificate
from elearn.orgs.models import User


def _header() -> list[str]:
    return [_("日期"), _("类型"), _("内容"), _("教育类别"), _("党的创新理论"), _("脱产培训"), _("县级以上"),
            _("学时"), _("备注")]


def _yes(flag: bool) -> str:
    return _("是") if flag else ""


def _table(user: User) -> tuple[requirements.RequirementStatus, list[list]]:
    st = requirements.status(user)
    body = [[r.credited_on.isoformat(), r.kind_label, r.title, r.category_label, _yes(r.innovative_theory),
             _yes(r.offjob), _yes(r.county_level), r.hours, r.note or ""]
            for r in ledger.rows(user, st.cycle_start, st.cycle_end)]
    return st, body


def filename(user: User, ext: str) -> str:
    return f"transcript-{user.username}-{clock.site_today().isoformat()}.{ext}"


def csv_bytes(user: User) -> bytes:
    """``user``'s own transcript download: UTF-8 CSV with a BOM (so spreadsheet programs open Chinese
    correctly), the credits, then after an empty row a second section with the member's own notes (its title
    row, then a header row of its own), as the XLSX has them on a sheet. The notes are private: only the
    member's own download carries them (never an admin's export, nor the signed PDF). No cell is a formula,
    not even the member's own name or a note."""
    st, body = _table(user)
    head = [_("姓名"), user.name, _("周期"), f"{st.cycle_start.isoformat()}—{st.cycle_end.isoformat()}",
            _("合计学时"), st.total_hours]
    notes = [[], [_("学习笔记")], *study_notes.export_rows(user)]
    return spreadsheets.csv_bytes([head, _header(), *body, *notes])


def xlsx_bytes(user: User) -> bytes:
    from openpyxl import Workbook  # ~140 ms to import: only spreadsheet downloads need it
    from openpyxl.styles import Font  # (openpyxl, as above)

    st, body = _table(user)
    wb = Workbook()
    ws = wb.active
    ws.title = _("学时记录")
    head = [[_("姓名"), user.name, _("周期"), f"{st.cycle_start.isoformat()}—{st.cycle_end.isoformat()}"],
            [_("合计学时"), st.total_hours, _("目标学时"), st.target_hours if st.target_hours else _("免予要求")],
            [], _header()]
    for row in [*head, *body]:
        ws.append(spreadsheets.xlsx_row(ws, row))
    for cell in ws[4]:
        cell.font = Font(bold=True)
    for col, width in zip("ABCDEFGHI", (12, 12, 40, 18, 12, 10, 10, 8, 20), strict=True):
        ws.column_dimensions[col].width = width
    notes_ws = wb.create_sheet(_("学习笔记"))  # the member's own notes (elearn.community.notes)
    for row in study_notes.export_rows(user):
        notes_ws.append(spreadsheets.xlsx_row(notes_ws, row))
    for col, width in zip("ABCD", (30, 24, 60, 18), strict=True):
        notes_ws.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _verify_url(code: str) -> str:
    """Where the printed QR code points: the site's public address when configured, else this request's."""
    base = current_app.config["ELEARN_PUBLIC_URL"]
    if base:
        return f"{base}{url_for('verify.page', code=code)}"
    return url_for("verify.page", code=code, _external=True)


def certificate_pdf(user: User, cert: Certificate) -> bytes:
    """The member's own copy of ``cert`` as a PDF (elearn.ledger.certificate_pdf): their full name, the seal, a
    QR code to its verification page; the cycle's certificate continues with the ledger's entries."""
    rows: list[list[str]] = []
    if cert.kind == "cycle":
        st = requirements.status(user)
        rows = [[r.credited_on.isoformat(), r.kind_label, r.title, r.category_label, f"{r.hours:.2f}"]
                for r in ledger.rows(user, st.cycle_start, st.cycle_end)]
    view = certificate_pdf_drawing.CertificateView(
        kind=cert.kind, content=json.loads(cert.content), holder_name=user.name, verify_url=_verify_url(cert.code),
        fingerprint=certificates.fingerprint(), ledger_rows=rows)
    return certificate_pdf_drawing.render(view)


def pdf_bytes(user: User) -> bytes:
    """The member's certificate of the cycle (学时证明), issued or the current one when nothing changed."""
    return certificate_pdf(user, certificates.issue_cycle(user))
