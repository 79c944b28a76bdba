"""The member's study hours: dashboard with charts, ledger and transcript downloads."""
from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from elearn.http.downloads import private_download
from elearn.ledger import certificates, requirements, transcript
from elearn.ledger import services as ledger
from elearn.policy import CONTENT_CATEGORIES, POLICY

bp = Blueprint("credits", __name__, url_prefix="/me")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = [("credits.dashboard", _l("我的学时"), None)]

CHART_W, CHART_H, BAR_GAP = 320, 160, 12


def year_bars(status: requirements.RequirementStatus) -> dict:
    """Geometry of the per-year bar chart (inline SVG, drawn by the template): one bar per cycle year,
    the theory part darker, and a line at the even yearly share of the target."""
    years = list(range(status.cycle_start.year, status.cycle_end.year + 1))
    by_year = {y.year: y for y in status.years}
    per_year_target = (status.target_hours or 0) / len(years)
    top = max([per_year_target, *[y.hours for y in status.years], 1.0]) * 1.15
    plot_h = CHART_H - 30
    width = (CHART_W - BAR_GAP * (len(years) + 1)) / len(years)
    bars = []
    for i, year in enumerate(years):
        y = by_year.get(year)
        hours = y.hours if y else 0.0
        theory = y.theory_hours if y else 0.0
        h = plot_h * hours / top
        th = plot_h * theory / top
        x = BAR_GAP + i * (width + BAR_GAP)
        bars.append({"year": year, "hours": hours, "x": round(x, 1), "w": round(width, 1),
                     "y": round(10 + plot_h - h, 1), "h": round(h, 1), "ty": round(10 + plot_h - th, 1),
                     "th": round(th, 1), "label_x": round(x + width / 2, 1), "future": y is None})
    line_y = round(10 + plot_h - plot_h * per_year_target / top, 1) if per_year_target else None
    return {"w": CHART_W, "h": CHART_H, "bars": bars, "target_y": line_y, "base_y": 10 + plot_h,
            "per_year_target": round(per_year_target, 1)}


def theory_bar(status: requirements.RequirementStatus) -> dict:
    share = status.theory_share
    return {"w": CHART_W, "share_w": round(CHART_W * share, 1),
            "required_x": round(CHART_W * status.theory_required, 1),
            "percent": round(share * 100), "required_percent": round(status.theory_required * 100)}


@bp.route("/")
@login_required
def dashboard():
    """Hours toward the requirement, per-year bars, theory share, pace warnings, the ledger and downloads; for an
    exempt member their status and hours in words, without the bars and targets that mean nothing for them."""
    status = requirements.status(current_user)
    rows = list(reversed(ledger.rows(current_user, status.cycle_start, status.cycle_end)))
    categories = [{"label": str(label), "hours": status.by_category.get(code, 0.0)}
                  for code, label in CONTENT_CATEGORIES.items()]
    completed = [{"id": s.id, "title": s.title} for s in certificates.completed_series(current_user)]
    return render_template("ledger/dashboard.html", status=status, rows=rows, chart=year_bars(status),
                           theory=theory_bar(status), categories=categories, policy_numbers=POLICY,
                           completed_series=completed, exempt_reason=current_user.exempt_reason)


def _download(data: bytes, mimetype: str, ext: str) -> Response:
    return private_download(data, mimetype, transcript.filename(current_user, ext))


@bp.route("/transcript.csv")
@login_required
def transcript_csv():
    """The ledger of the cycle as CSV (UTF-8 with BOM)."""
    return _download(transcript.csv_bytes(current_user), "text/csv", "csv")


@bp.route("/transcript.xlsx")
@login_required
def transcript_xlsx():
    """The ledger of the cycle as an Excel workbook."""
    return _download(transcript.xlsx_bytes(current_user),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")


@bp.route("/certificate.pdf")
@login_required
def certificate_pdf():
    """The member's verifiable certificate of the cycle's study hours (PDF; the same serial while nothing
    changed)."""
    return _download(transcript.pdf_bytes(current_user), "application/pdf", "pdf")


@bp.route("/certificates/series/<int:series_id>.pdf")
@login_required
def series_certificate_pdf(series_id: int):
    """The member's verifiable certificate of a series they completed (PDF); 404 for any other series."""
    cert = certificates.issue_series(current_user, series_id)
    return _download(transcript.certificate_pdf(current_user, cert), "application/pdf", "pdf")
