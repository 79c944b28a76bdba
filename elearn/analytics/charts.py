"""Server-rendered inline SVG charts (the CSP allows no inline scripts, and no chart library is needed).

Each function takes plain numbers and returns escaped SVG markup that scales to its container
(``viewBox`` + ``width: 100%``), so the same chart reads on a 360-px phone and a desktop. Every chart has a
``<title>`` and ``role="img"`` for screen readers; the pages show the same figures in a table too.
"""
from __future__ import annotations

from markupsafe import Markup, escape

WIDTH = 320  # viewBox units; the chart is scaled to its container


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}".rstrip("0").rstrip(".")


def _svg(height: float, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" role="img" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(body)}</svg>')


def hbars(rows: list[tuple[str, float, str]], title: str, max_value: float | None = None,
          suffix: str = "") -> Markup:
    """Horizontal bars, one per ``(label, value, shown text)``; labels sit above their bar (long Chinese
    names do not squeeze the bars on a phone)."""
    peak = max_value if max_value else max([v for _l, v, _t in rows] + [0]) or 1
    body, y, bar_w = [], 4, WIDTH - 56
    for label, value, text in rows:
        w = max(0.0, min(1.0, value / peak)) * bar_w
        body.append(f'<text x="0" y="{y + 11}" class="chart-label">{escape(label)}</text>')
        body.append(f'<rect x="0" y="{y + 15}" width="{bar_w}" height="12" rx="3" class="chart-track"/>')
        body.append(f'<rect x="0" y="{y + 15}" width="{w:.1f}" height="12" rx="3" class="chart-bar"/>')
        body.append(f'<text x="{bar_w + 4}" y="{y + 25}" class="chart-value">{escape(text)}{escape(suffix)}</text>')
        y += 34
    return _svg(max(y, 20), title, body)


def columns(rows: list[tuple[str, float]], title: str) -> Markup:
    """Vertical columns (a histogram), value above each, label below."""
    n = max(len(rows), 1)
    peak = max([v for _l, v in rows] + [0]) or 1
    plot_h, top, gap = 120, 16, 4
    col_w = (WIDTH - gap * (n - 1)) / n
    body = []
    for i, (label, value) in enumerate(rows):
        h = value / peak * plot_h
        x = i * (col_w + gap)
        body.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{col_w:.1f}" height="{h:.1f}" '
                    f'class="chart-bar"/>')
        body.append(f'<text x="{x + col_w / 2:.1f}" y="{top + plot_h - h - 3:.1f}" text-anchor="middle" '
                    f'class="chart-value">{escape(_fmt(value))}</text>')
        body.append(f'<text x="{x + col_w / 2:.1f}" y="{top + plot_h + 13:.1f}" text-anchor="middle" '
                    f'class="chart-axis">{escape(label)}</text>')
    body.insert(0, f'<line x1="0" x2="{WIDTH}" y1="{top + plot_h}" y2="{top + plot_h}" class="chart-grid"/>')
    return _svg(top + plot_h + 20, title, body)


def line(points: list[tuple[str, float]], title: str, secondary: list[float] | None = None) -> Markup:
    """A line over time with dots; ``secondary`` (same length) is drawn dashed (e.g. the theory part)."""
    n = len(points)
    peak = max([v for _l, v in points] + [0]) or 1
    left, top, plot_w, plot_h = 4, 14, WIDTH - 8, 110

    def xy(i, v):
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return x, top + plot_h - v / peak * plot_h

    body = [f'<line x1="0" x2="{WIDTH}" y1="{top + plot_h}" y2="{top + plot_h}" class="chart-grid"/>',
            f'<text x="0" y="10" class="chart-axis">{escape(_fmt(peak))}</text>']
    for series, cls in ((([v for _l, v in points]), "chart-line"), (secondary, "chart-line alt")):
        if not series:
            continue
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in enumerate(series)))
        body.append(f'<polyline points="{coords}" class="{cls}"/>')
    for i, (label, v) in enumerate(points):
        x, y = xy(i, v)
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" class="chart-dot"><title>{escape(label)}: '
                    f'{escape(_fmt(v))}</title></circle>')
        if (n - 1 - i) % max(1, n // 6) == 0:  # evenly spaced, counted back from the latest, which is always shown
            anchor = "end" if i == n - 1 else ("start" if i == 0 else "middle")
            body.append(f'<text x="{x:.1f}" y="{top + plot_h + 13}" text-anchor="{anchor}" '
                        f'class="chart-axis">{escape(label)}</text>')
    return _svg(top + plot_h + 18, title, body)


def share_bar(parts: list[tuple[str, float, str]], title: str) -> Markup:
    """One stacked bar of shares, ``(label, count, css class)``, with a legend below."""
    total = sum(v for _l, v, _c in parts) or 1
    body, x = [], 0.0
    for label, value, cls in parts:
        w = value / total * WIDTH
        if w > 0:
            body.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="22" class="{cls}">'
                        f'<title>{escape(label)}: {escape(_fmt(value))}</title></rect>')
        x += w
    for i, (label, value, cls) in enumerate(parts):
        y = 32 + i * 15
        text = f"{label} {_fmt(value)} ({value / total * 100:.0f}%)"
        body.append(f'<rect x="0" y="{y}" width="10" height="10" class="{cls}"/>')
        body.append(f'<text x="14" y="{y + 9}" class="chart-axis">{escape(text)}</text>')
    return _svg(32 + len(parts) * 15, title, body)
