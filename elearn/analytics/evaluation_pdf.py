"""The evaluation report as an A4 PDF: the same sections and figures as the page, each chart drawn as a
reportlab bar chart beside its table, set in the certificates' embedded CJK font
(elearn.ledger.certificate_pdf.font_name). Counts only: no member is named."""
from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from flask_babel import gettext as _

from elearn import clock
from elearn.analytics.evaluation import EvaluationReport
from elearn.ledger.certificate_pdf import font_name
from elearn.policy import ORG_KINDS

BAR = "#c8161d"  # the site's party red
MUTED = "#d9d9d9"


def _pct(x: float | None) -> str:
    return f"{x * 100:.1f}%" if x is not None else "—"


def _num(x: float | None) -> str:
    return f"{x:.1f}" if x is not None else "—"


NUMERALS = "一二三四五六七八九十"


def section_titles(r: EvaluationReport) -> dict[str, str]:
    """The report's sections in order, numbered as they appear (the page uses the same): meetings and surveys
    only when their figures are available, the per-child table only when there are children."""
    titles = {"coverage": _("应训尽训（参训覆盖）"), "categories": _("各类党员学时与折算目标"),
              "theory": _("党的创新理论学时占比"), "secretaries": _("基层党组织书记脱产培训"),
              "meetings": _("组织生活召开情况"), "surveys": _("培训需求调研"),
              "at_risk": _("学习进度落后党员"), "children": _("下级组织情况")}
    missing = {"meetings": r.meetings is None, "surveys": r.surveys is None, "children": not r.children}
    keys = [k for k in titles if not missing.get(k)]
    return {k: f"{NUMERALS[i]}、{titles[k]}" for i, k in enumerate(keys)}


def _bar_chart(labels: list[str], values: list[float], font: str, max_value: float | None = None) -> Any:
    """A horizontal bar chart (labels may be long Chinese names), one bar per label."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart  # reportlab loads only for PDFs
    from reportlab.graphics.shapes import Drawing  # (as above)
    from reportlab.lib import colors  # (as above)

    height = 18 * len(labels) + 24
    drawing = Drawing(440, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 130, 14, 290, height - 22
    chart.data = [values]
    chart.bars[0].fillColor = colors.HexColor(BAR)
    chart.bars[0].strokeColor = None
    chart.categoryAxis.categoryNames = [lbl[:14] for lbl in labels]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7.5
    chart.categoryAxis.reverseDirection = True  # first label on top, as in the table
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    peak = max_value or max([*values, 0]) or 1
    chart.valueAxis.valueMax = peak
    chart.valueAxis.valueStep = peak / 4
    chart.barLabelFormat = "%.1f"
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def report_pdf(r: EvaluationReport) -> bytes:
    """Draw ``r`` as a PDF (A4 portrait) and return its bytes."""
    from reportlab.lib import colors  # (as in _bar_chart)
    from reportlab.lib.pagesizes import A4  # (as above)
    from reportlab.lib.styles import ParagraphStyle  # (as above)
    from reportlab.lib.units import mm  # (as above)
    from reportlab.platypus import (  # (as above)
        KeepTogether,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = font_name()
    title_style = ParagraphStyle("title", fontName=font, fontSize=18, leading=26, alignment=1, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=13, leading=19, spaceBefore=8, spaceAfter=6)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    cell = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10.5, wordWrap="CJK")
    titles = section_titles(r)

    def p(text: str, style: Any = body) -> Any:
        return Paragraph(escape(text), style)

    def table(head: list[str], rows: list[list[Any]], widths: list[float] | None = None) -> Any:
        data = [[p(h, cell) for h in head]] + [[p(str(v), cell) for v in row] for row in rows]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3e6e6")),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        return t

    story: list[Any] = [
        p(_("党员教育培训工作评估报告"), title_style),
        p(_("组织：%(org)s（%(kind)s）", org=r.org_name, kind=str(ORG_KINDS.get(r.org_kind, r.org_kind)))),
        p(_("评估期间：%(start)s 至 %(end)s（占本周期 %(share)s）", start=r.start.isoformat(),
            end=r.end.isoformat(), share=_pct(r.cycle_share))),
        p(_("生成时间：%(t)s", t=clock.to_site(r.generated_at).strftime("%Y-%m-%d %H:%M"))),
        *[p(n) for n in r.notes],
        Spacer(1, 4 * mm),
    ]

    def section(key: str, parts: list[Any]) -> None:
        if story and key != next(iter(titles)):
            story.append(PageBreak())
        story.append(KeepTogether([p(titles[key], h2), *parts[:2]]))
        story.extend(parts[2:])

    cov = [r.coverage, *r.coverage_by_kind]
    section("coverage", [
        p(_("应参训党员 %(req)d 人（另有免予要求 %(ex)d 人），期间内有学时记录 %(cov)d 人，参训率 %(share)s。",
            req=r.coverage.required, ex=r.coverage.exempt, cov=r.coverage.covered, share=_pct(r.coverage.share))),
        _bar_chart([c.label for c in cov], [(c.share or 0) * 100 for c in cov], font, 100),
        table([_("所在组织层级"), _("党员"), _("免予要求"), _("应参训"), _("已参训"), _("参训率")],
              [[c.label, c.members, c.exempt, c.required, c.covered, _pct(c.share)] for c in cov]),
    ])
    section("categories", [
        p(_("目标按评估期间占本周期的比例折算（%(share)s）；不含免予要求的党员。", share=_pct(r.cycle_share))),
        _bar_chart([c.label for c in r.categories], [(c.met_share or 0) * 100 for c in r.categories], font, 100),
        table([_("类别"), _("人数"), _("周期目标"), _("折算目标"), _("人均学时"), _("中位数"), _("达标人数"),
               _("达标比例")],
              [[c.label, c.members, _num(c.cycle_target), _num(c.target), _num(c.average), _num(c.median), c.met,
                _pct(c.met_share)] for c in r.categories]),
    ])
    t = r.theory
    verdict = {True: _("达到"), False: _("未达到"), None: "—"}[t.meets_rule]
    section("theory", [
        p(_("期间总学时 %(h)s，其中党的创新理论学时 %(th)s，占 %(share)s，%(verdict)s不低于 %(req)s 的要求。",
            h=_num(t.hours), th=_num(t.theory_hours), share=_pct(t.share), verdict=verdict,
            req=_pct(t.required_share))),
        _bar_chart([_("党的创新理论"), _("其他内容")], [t.theory_hours, max(0.0, t.hours - t.theory_hours)], font),
        table([_("总学时"), _("创新理论学时"), _("占比"), _("有学时党员"), _("个人占比达标")],
              [[_num(t.hours), _num(t.theory_hours), _pct(t.share), t.members_with_hours,
                f"{t.members_ok} ({_pct(t.members_ok_share)})"]]),
    ])
    sec = r.secretaries
    section("secretaries", [
        p(_("县级以上党委举办的脱产培训，每年不少于 %(h)d 学时。", h=int(sec[0].required_hours) if sec else 0)),
        _bar_chart([str(y.year) for y in sec], [(y.met_share or 0) * 100 for y in sec], font, 100),
        table([_("年度"), _("统计区间"), _("书记人数"), _("达标"), _("达标比例"), _("未参加"), _("人均学时")],
              [[f"{y.year}{_('（部分年度）') if y.partial else ''}", f"{y.start.isoformat()}—{y.end.isoformat()}",
                y.secretaries, y.met, _pct(y.met_share), y.none, _num(y.average)] for y in sec]),
    ])
    if r.meetings is not None:
        section("meetings", [
            p(_("应开次数按各支部的年度频次与评估期间长度折算。")),
            _bar_chart([m["label"] for m in r.meetings], [float(m["held"]) for m in r.meetings], font)
            if r.meetings else Spacer(1, 1),
            table([_("会议"), _("实际召开"), _("应开"), _("支部数"), _("按频次召开的支部")],
                  [[m["label"], m["held"], m["expected"], m["branches"], m["branches_on_cadence"]]
                   for m in r.meetings]),
        ])
    if r.surveys is not None:
        section("surveys", [
            p(_("评估期间内开放的需求调研 %(n)d 项。", n=len(r.surveys))),
            table([_("调研"), _("组织"), _("开放"), _("截止"), _("答卷"), _("回收率")],
                  [[s["title"], s["organisation"], s["opens_on"] or "—", s["closes_on"] or "—", s["responses"],
                    _pct(s["response_rate"])] for s in r.surveys]) if r.surveys else Spacer(1, 1),
        ])
    risk_rows = [[o.name, o.at_risk] for o in r.at_risk_by_org]
    if r.at_risk_rest[0]:
        risk_rows.append([_("其余 %(n)d 个组织", n=r.at_risk_rest[0]), r.at_risk_rest[1]])
    section("at_risk", [
        p(_("截至 %(day)s，按周期进度折算，进度落后的党员 %(n)d 人（应参训 %(req)d 人）。按组织统计，不列姓名。",
            day=r.as_of.isoformat(), n=r.at_risk, req=r.at_risk_required)),
        table([_("组织"), _("进度落后人数")], risk_rows or [[_("无"), 0]]),
    ])
    if r.children:
        lines = [*r.children, *([r.direct] if r.direct else [])]
        section("children", [
            p(_("每个下级组织含其全部下属组织。")),
            _bar_chart([c.name for c in lines], [(c.coverage or 0) * 100 for c in lines], font, 100),
            table([_("组织"), _("党员"), _("应参训"), _("参训率"), _("人均学时"), _("折算目标达标"),
                   _("创新理论占比"), _("进度落后")],
                  [[c.name if c is not r.direct else _("本级直属"), c.members, c.required, _pct(c.coverage),
                    _num(c.average), _pct(c.met_share), _pct(c.theory_share), c.at_risk] for c in lines]),
        ])

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"{r.org_name} · {r.start.isoformat()}—{r.end.isoformat()}"
                                 f" · {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=_("党员教育培训工作评估报告"), author=r.org_name)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
