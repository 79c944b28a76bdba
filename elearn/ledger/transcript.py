"""Transcripts of a member's study hours: CSV, XLSX and a printable PDF certificate.

Each builder takes the member and returns bytes; nothing is written to disk. The PDF uses reportlab's built-in
CID font ``STSong-Light`` so Chinese renders without shipping a font file.
"""
from __future__ import annotations

import io

from flask_babel import gettext as _

from elearn import clock, spreadsheets
from elearn.ledger import requirements
from elearn.ledger import services as ledger
from elearn.orgs.models import User
from elearn.policy import MEMBER_CATEGORIES, POLICY

CJK_FONT = "STSong-Light"


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
    """UTF-8 CSV with a BOM (so spreadsheet programs open Chinese correctly); no cell is a formula, not even
    the member's own name."""
    st, body = _table(user)
    head = [_("姓名"), user.name, _("周期"), f"{st.cycle_start.isoformat()}—{st.cycle_end.isoformat()}",
            _("合计学时"), st.total_hours]
    return spreadsheets.csv_bytes([head, _header(), *body])


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
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def pdf_bytes(user: User) -> bytes:
    """A one-page certificate (学时证明) with the summary and the ledger table."""
    from reportlab.lib import colors  # reportlab takes ~170 ms to import: only certificates need it
    from reportlab.lib.pagesizes import A4  # (reportlab, as above)
    from reportlab.lib.styles import ParagraphStyle  # (reportlab, as above)
    from reportlab.lib.units import mm  # (reportlab, as above)
    from reportlab.pdfbase import pdfmetrics  # (reportlab, as above)
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # (reportlab, as above)
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # (reportlab, as above)

    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    st, body = _table(user)
    title = ParagraphStyle("t", fontName=CJK_FONT, fontSize=20, leading=28, alignment=1)
    normal = ParagraphStyle("n", fontName=CJK_FONT, fontSize=11, leading=17)
    small = ParagraphStyle("s", fontName=CJK_FONT, fontSize=8.5, leading=11)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=18 * mm,
                            bottomMargin=16 * mm, title=_("党员教育培训学时证明"), author="elearn")
    if st.exempt:
        target = _("免予学时要求")
    else:
        target = _("%(h).0f 学时", h=st.target_hours or 0)
    story = [
        Paragraph(_("党员教育培训学时证明"), title), Spacer(1, 8 * mm),
        Paragraph(_("姓名：%(n)s　　类别：%(c)s　　所在组织：%(o)s", n=user.name,
                    c=MEMBER_CATEGORIES[user.category], o=user.organisation.name), normal),
        Paragraph(_("培训周期：%(s)s 至 %(e)s", s=st.cycle_start.isoformat(), e=st.cycle_end.isoformat()), normal),
        Paragraph(_("累计学时：%(t).2f（其中党的创新理论 %(th).2f，占 %(p).0f%%）　要求：%(r)s　状态：%(st)s",
                    t=st.total_hours, th=st.theory_hours, p=st.theory_share * 100, r=target,
                    st=st.state_label), normal),
        Spacer(1, 6 * mm),
    ]
    header = [_("日期"), _("类型"), _("内容"), _("类别"), _("理论"), _("脱产"), _("学时")]
    data = [header] + [[r[0], r[1], Paragraph(str(r[2]), small), Paragraph(str(r[3]), small), r[4], r[5],
                        f"{r[7]:.2f}"] for r in body]
    if not body:
        data.append(["", "", Paragraph(_("暂无学时记录"), small), "", "", "", ""])
    table = Table(data, colWidths=[22 * mm, 20 * mm, 62 * mm, 30 * mm, 12 * mm, 12 * mm, 16 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), CJK_FONT, 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3e5e5")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (-1, 1), (-1, -1), "RIGHT"),
    ]))
    basis = _("依据《2024—2028年全国党员教育培训工作规划》，1 学时 = %(m)d 分钟在线学习，1 天 = %(d)d 学时。"
              "本证明由系统根据学时台账生成，生成日期：%(today)s。",
              m=POLICY.minutes_per_online_hour, d=POLICY.hours_per_day, today=clock.site_today().isoformat())
    story += [table, Spacer(1, 10 * mm), Paragraph(basis, small)]
    doc.build(story)
    return out.getvalue()
