"""Drawing a certificate as an A4 PDF: border, title, body, the issuing organisation's seal, a QR code to its
verification page, serial and date; the cycle's certificate continues with the ledger's entries.

Text is set in a TrueType CJK font (``ELEARN_CERTIFICATE_FONT``, WenQuanYi Zen Hei from ``make sysdeps``) whose
subset reportlab embeds, so every viewer (WeChat's, Android's) shows the same glyphs, "·" included; reportlab
cannot embed CFF outlines such as Noto CJK's. Without that font the PDF falls back to the viewer's own Song
font (reportlab's CID ``STSong-Light``, not embedded) and says so in the log.
"""
from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import segno
from flask import current_app
from flask_babel import gettext as _

from elearn.policy import MEMBER_CATEGORIES, POLICY, REQUIREMENT_STATES

log = logging.getLogger(__name__)

FONT_NAME = "ElearnCertificateCJK"
FALLBACK_FONT = "STSong-Light"
SEAL_RED = "#c8161d"
BORDER_GOLD = "#b8860b"


@dataclass(frozen=True)
class CertificateView:
    """What the drawing needs, as plain data (the caller formats names and labels)."""

    kind: str  # cycle, series
    content: dict[str, Any]  # the signed content
    holder_name: str  # the full name, printed on the member's own copy only
    verify_url: str
    fingerprint: str
    ledger_rows: list[list[str]] = field(default_factory=list)  # cycle: date, kind, title, category, hours


def font_name() -> str:
    """Register the certificate font once per process (parsing the .ttc takes ~0.6 s) and return its name."""
    from reportlab.pdfbase import pdfmetrics  # reportlab takes ~170 ms to import: only certificates need it
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # (reportlab, as above)
    from reportlab.pdfbase.ttfonts import TTFError, TTFont  # (reportlab, as above)

    registered = pdfmetrics.getRegisteredFontNames()
    if FONT_NAME in registered:
        return FONT_NAME
    path = current_app.config["ELEARN_CERTIFICATE_FONT"]
    try:
        index = current_app.config["ELEARN_CERTIFICATE_FONT_INDEX"]
        pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=index))
        return FONT_NAME
    except (OSError, TTFError) as exc:
        log.warning("certificate font %s unusable (%s): falling back to the viewer's %s, not embedded; "
                    "run `make sysdeps`", path, exc, FALLBACK_FONT)
    if FALLBACK_FONT not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT


def draw_seal(canvas: Any, cx: float, cy: float, radius: float, organisation: str, purpose: str,
              font: str) -> None:
    """A red round seal: a double ring, ``organisation`` along the upper arc, a five-pointed star in the middle
    and ``purpose`` (e.g. 学时证明专用章) straight across below it."""
    from reportlab.lib import colors  # (reportlab, as in font_name)

    red = colors.HexColor(SEAL_RED)
    canvas.saveState()
    canvas.setStrokeColor(red)
    canvas.setFillColor(red)
    if hasattr(canvas, "setFillAlpha"):
        canvas.setFillAlpha(0.88)  # ink over the printed text, as a stamp is
        canvas.setStrokeAlpha(0.88)
    canvas.setLineWidth(radius * 0.06)
    canvas.circle(cx, cy, radius, stroke=1, fill=0)
    canvas.setLineWidth(radius * 0.012)
    canvas.circle(cx, cy, radius * 0.91, stroke=1, fill=0)

    # The star: five outer points at radius s, inner ones at s × sin(18°)/sin(126°) (a regular pentagram).
    s = radius * 0.3
    inner = s * math.sin(math.radians(18)) / math.sin(math.radians(126))
    path = canvas.beginPath()
    for i in range(10):
        r = s if i % 2 == 0 else inner
        a = math.radians(90 + i * 36)
        x, y = cx + r * math.cos(a), cy + r * math.sin(a)
        path.moveTo(x, y) if i == 0 else path.lineTo(x, y)
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)

    chars = [ch for ch in organisation if not ch.isspace()] or ["·"]
    n = len(chars)
    sweep = min(235.0, 26.0 * n + 20)  # degrees of the arc the name takes, centred on the top
    step = sweep / max(1, n - 1) if n > 1 else 0.0
    size = min(radius * 0.24, 2 * math.pi * radius * 0.72 * (step or 40) / 360 * 0.95)
    text_r = radius * 0.86 - size * 0.88  # baseline radius: the glyphs' tops just inside the inner ring
    canvas.setFont(font, size)
    for i, ch in enumerate(chars):
        a = 90 + sweep / 2 - i * step if n > 1 else 90.0
        canvas.saveState()
        canvas.translate(cx + text_r * math.cos(math.radians(a)), cy + text_r * math.sin(math.radians(a)))
        canvas.rotate(a - 90)
        canvas.drawCentredString(0, 0, ch)
        canvas.restoreState()
    if purpose:
        psize = min(radius * 0.17, radius * 1.2 / max(1, len(purpose)))
        canvas.setFont(font, psize)
        canvas.drawCentredString(cx, cy - radius * 0.62, purpose)
    canvas.restoreState()


def draw_qr(canvas: Any, url: str, x: float, y: float, size: float) -> None:
    """``url`` as a QR code (segno, error correction M) filling a ``size`` square whose lower left is (x, y)."""
    from reportlab.lib import colors  # (reportlab, as in font_name)

    qr = segno.make(url, error="m", micro=False)
    rows = [list(r) for r in qr.matrix_iter(scale=1, border=2)]
    module = size / len(rows)
    canvas.saveState()
    canvas.setFillColor(colors.white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    for j, row in enumerate(rows):
        i = 0
        while i < len(row):  # one rectangle per run of dark modules keeps the PDF small
            if row[i]:
                start = i
                while i < len(row) and row[i]:
                    i += 1
                canvas.rect(x + start * module, y + size - (j + 1) * module, (i - start) * module, module,
                            stroke=0, fill=1)
            else:
                i += 1
    canvas.restoreState()


def _body(view: CertificateView) -> tuple[str, list[str]]:
    """The title and the body's paragraphs in the current language."""
    c = view.content
    org = c["organisation"]["name"]
    category = str(MEMBER_CATEGORIES.get(c.get("member_category", ""), ""))
    if view.kind == "series":
        courses = "、".join(f"《{t}》" for t in c["courses"] if t)
        return _("专题学习证书"), [
            _("兹证明 %(name)s 同志（%(category)s，所在组织：%(org)s）已完成专题“%(series)s”的全部课程学习，"
              "累计 %(hours)s 学时。", name=view.holder_name, category=category, org=org,
              series=c["series"]["title"], hours=c["hours"]),
            _("学习期间：%(start)s 至 %(end)s。", start=c["period"]["start"] or "—", end=c["period"]["end"] or "—"),
            _("所学课程：%(courses)s。", courses=courses),
        ]
    if c.get("exempt"):
        target = _("免予学时要求")
    else:
        target = _("%(h)s 学时", h=c["target_hours"])
    paragraphs = [
        _("兹证明 %(name)s 同志（%(category)s，所在组织：%(org)s）在 %(start)s 至 %(end)s 培训周期内参加党员教育"
          "培训，累计 %(total)s 学时，其中党的创新理论教育 %(theory)s 学时。", name=view.holder_name,
          category=category, org=org, start=c["period"]["start"], end=c["period"]["end"], total=c["total_hours"],
          theory=c["theory_hours"]),
        _("周期要求：%(target)s　　当前状态：%(state)s", target=target,
          state=str(REQUIREMENT_STATES.get(c["status"], c["status"]))),
    ]
    if "offjob_years" in c:
        years = "；".join(
            _("%(y)d 年 %(h)s / %(r)s 学时（%(ok)s）", y=y["year"], h=y["hours"], r=y["required"],
              ok=_("达标") if y["met"] else _("未达标")) for y in c["offjob_years"])
        paragraphs.append(_("基层党组织书记每年县级以上脱产培训：%(years)s。", years=years or "—"))
    return _("党员教育培训学时证明"), paragraphs


def render(view: CertificateView) -> bytes:
    """The certificate as PDF bytes (A4): page one the certificate, then (cycle) the ledger's entries."""
    from reportlab.lib import colors  # (reportlab, as in font_name)
    from reportlab.lib.pagesizes import A4  # (reportlab, as in font_name)
    from reportlab.lib.styles import ParagraphStyle  # (reportlab, as in font_name)
    from reportlab.lib.units import mm  # (reportlab, as in font_name)
    from reportlab.platypus import (  # (reportlab, as in font_name)
        BaseDocTemplate,
        Frame,
        NextPageTemplate,
        PageBreak,
        PageTemplate,
        Paragraph,
        Spacer,
        Table,
        TableStyle,
    )

    font = font_name()
    c = view.content
    width, height = A4
    title, paragraphs = _body(view)
    org = c["organisation"]["name"]
    issued_on = c["issued_on"]
    purpose = _("学习证书专用章") if view.kind == "series" else _("学时证明专用章")
    footer = _("证书编号：%(serial)s · 签发日期：%(date)s", serial=c["serial"], date=issued_on)

    def certificate_page(canvas: Any, _doc: Any) -> None:
        canvas.saveState()
        canvas.setStrokeColor(colors.HexColor(SEAL_RED))
        canvas.setLineWidth(2.2)
        canvas.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
        canvas.setStrokeColor(colors.HexColor(BORDER_GOLD))
        canvas.setLineWidth(0.8)
        canvas.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
        for x, y in ((15, 15), (195, 15), (15, 282), (195, 282)):  # corner ornaments
            canvas.circle(x * mm, y * mm, 2.2 * mm, stroke=1, fill=0)
        canvas.setFillColor(colors.HexColor(SEAL_RED))
        canvas.setFont(font, 30)
        canvas.drawCentredString(width / 2, height - 52 * mm, title)
        canvas.setFillColor(colors.HexColor("#333333"))
        canvas.setFont(font, 10)
        canvas.drawCentredString(width / 2, height - 62 * mm, footer)
        # Issuer and date, with the seal stamped over them (lower right).
        canvas.setFillColor(colors.black)
        canvas.setFont(font, 13)
        canvas.drawRightString(width - 32 * mm, 92 * mm, _("签发单位：%(org)s", org=org))
        canvas.drawRightString(width - 32 * mm, 82 * mm, issued_on)
        draw_seal(canvas, width - 62 * mm, 90 * mm, 21 * mm, org, purpose, font)
        # QR code to the verification page, with what it says underneath (lower left).
        draw_qr(canvas, view.verify_url, 28 * mm, 44 * mm, 34 * mm)
        canvas.setFont(font, 8.5)
        canvas.drawString(28 * mm, 40 * mm, _("扫码或访问以下网址核验本证书："))
        canvas.setFont(font, 7.5)
        canvas.drawString(28 * mm, 35.5 * mm, view.verify_url)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.setFont(font, 7)
        canvas.drawString(28 * mm, 24 * mm, _("本证书由系统根据学时台账生成并以 Ed25519 数字签名，公钥指纹："))
        canvas.drawString(28 * mm, 20 * mm, view.fingerprint)
        canvas.restoreState()

    def detail_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(16 * mm, 10 * mm, footer)
        canvas.drawRightString(width - 16 * mm, 10 * mm, str(doc.page))
        canvas.restoreState()

    out = io.BytesIO()
    doc = BaseDocTemplate(out, pagesize=A4, title=title, author=org, subject=c["serial"], creator="elearn")
    body_frame = Frame(30 * mm, 110 * mm, width - 60 * mm, height - 185 * mm, id="body")
    detail_frame = Frame(16 * mm, 16 * mm, width - 32 * mm, height - 32 * mm, id="detail")
    doc.addPageTemplates([PageTemplate("certificate", [body_frame], onPage=certificate_page),
                          PageTemplate("detail", [detail_frame], onPage=detail_page)])
    text = ParagraphStyle("body", fontName=font, fontSize=13.5, leading=25, firstLineIndent=27, spaceAfter=6,
                          wordWrap="CJK")  # Chinese breaks between any two characters, not at spaces
    story: list[Any] = [Spacer(1, 4 * mm), *[Paragraph(escape(p), text) for p in paragraphs]]
    if view.kind == "cycle":
        small = ParagraphStyle("small", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
        heading = ParagraphStyle("heading", fontName=font, fontSize=14, leading=20, spaceAfter=8)
        story += [NextPageTemplate("detail"), PageBreak(),
                  Paragraph(escape(_("附：学时明细（%(holder)s）", holder=view.holder_name)), heading)]
        header = [_("日期"), _("类型"), _("内容"), _("类别"), _("学时")]
        data: list[list[Any]] = [header] + [
            [r[0], r[1], Paragraph(escape(r[2]), small), Paragraph(escape(r[3]), small), r[4]]
            for r in view.ledger_rows]
        if not view.ledger_rows:
            data.append(["", "", Paragraph(_("暂无学时记录"), small), "", ""])
        table = Table(data, colWidths=[24 * mm, 24 * mm, 82 * mm, 32 * mm, 16 * mm], repeatRows=1)
        table.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), font, 8.5),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3e5e5")),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("ALIGN", (-1, 1), (-1, -1), "RIGHT"),
        ]))
        basis = _("依据《2024—2028年全国党员教育培训工作规划》，1 学时 = %(m)d 分钟在线学习，1 天 = %(d)d 学时。",
                  m=POLICY.minutes_per_online_hour, d=POLICY.hours_per_day)
        story += [table, Spacer(1, 6 * mm), Paragraph(escape(basis), small)]
    doc.build(story)
    return out.getvalue()
