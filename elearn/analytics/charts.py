"""Server-rendered inline SVG charts (the CSP allows no inline scripts, and no chart library is needed).

Each function takes plain numbers and returns escaped SVG markup that scales to its container
(``viewBox`` + ``width: 100%``), so the same chart reads on a 360-px phone and a desktop. Every chart has a
``<title>`` and ``role="img"`` for screen readers. Given ``headers`` (the column headings), a chart carries its
figures in a visually hidden table beside it, for screen readers, and the picture itself is hidden from them;
without, the page shows the same figures in a visible table of its own.
"""
from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 320  # viewBox units; the chart is scaled to its container


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}".rstrip("0").rstrip(".")


def _svg(height: float, title: str, body: list[str], headers: tuple[str, ...] | None = None,
         rows: Sequence[tuple[str, ...]] | None = None) -> Markup:
    hidden = ' aria-hidden="true"' if headers else ' role="img"'
    svg = (f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}"{hidden} preserveAspectRatio="xMinYMin meet" '
           f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(body)}</svg>')
    if not headers:
        return Markup(svg)
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    cells = "".join("<tr>" + "".join(f'<th scope="row">{escape(r[0])}</th>' if i == 0 else f"<td>{escape(c)}</td>"
                                     for i, c in enumerate(r)) + "</tr>" for r in rows or [])
    return Markup(f'{svg}<table class="sr-only chart-table"><caption>{escape(title)}</caption>'
                  f'<thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>')


def hbars(rows: list[tuple[str, float, str]], title: str, max_value: float | None = None,
          suffix: str = "", headers: tuple[str, str] | None = None) -> Markup:
    """Horizontal bars, one per ``(label, value, shown text)``; labels sit above their bar (long Chinese
    names do not squeeze the bars on a phone)."""
    peak = max_value if max_value else max([v for _l, v, _t in rows] + [0]) or 1
    body, y, bar_w = [], 4, WIDTH - 56
    for label, value, text in rows:
        w = max(0.0, min(1.0, value / peak)) * bar_w
        body.append(f'<text x="0" y="{y + 14}" class="chart-label">{escape(label)}</text>')
        body.append(f'<rect x="0" y="{y + 18}" width="{bar_w}" height="12" rx="3" class="chart-track"/>')
        body.append(f'<rect x="0" y="{y + 18}" width="{w:.1f}" height="12" rx="3" class="chart-bar"/>')
        body.append(f'<text x="{bar_w + 4}" y="{y + 29}" class="chart-value">{escape(text)}{escape(suffix)}</text>')
        y += 36
    return _svg(max(y, 20), title, body, headers, [(label, text + suffix) for label, _v, text in rows])


def columns(rows: list[tuple[str, float]], title: str, headers: tuple[str, str] | None = None) -> Markup:
    """Vertical columns (a histogram), value above each, label below."""
    n = max(len(rows), 1)
    peak = max([v for _l, v in rows] + [0]) or 1
    plot_h, top, gap = 120, 18, 4
    col_w = (WIDTH - gap * (n - 1)) / n
    # Labels wider than their column (about 8 units a character at 14 units) alternate between two lines.
    stagger = max([len(label) for label, _v in rows] + [0]) * 8 > col_w + gap
    body = []
    for i, (label, value) in enumerate(rows):
        h = value / peak * plot_h
        x = i * (col_w + gap)
        body.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{col_w:.1f}" height="{h:.1f}" '
                    f'class="chart-bar"/>')
        body.append(f'<text x="{x + col_w / 2:.1f}" y="{top + plot_h - h - 3:.1f}" text-anchor="middle" '
                    f'class="chart-value">{escape(_fmt(value))}</text>')
        label_y = top + plot_h + 16 + (17 if stagger and i % 2 else 0)
        body.append(f'<text x="{x + col_w / 2:.1f}" y="{label_y:.1f}" text-anchor="middle" '
                    f'class="chart-axis">{escape(label)}</text>')
    body.insert(0, f'<line x1="0" x2="{WIDTH}" y1="{top + plot_h}" y2="{top + plot_h}" class="chart-grid"/>')
    return _svg(top + plot_h + 22 + (17 if stagger else 0), title, body, headers,
                [(label, _fmt(value)) for label, value in rows])


def line(points: list[tuple[str, float]], title: str, secondary: list[float] | None = None,
         headers: tuple[str, ...] | None = None) -> Markup:
    """A line over time with dots; ``secondary`` (same length) is drawn dashed (e.g. the theory part)."""
    n = len(points)
    peak = max([v for _l, v in points] + [0]) or 1
    left, top, plot_w, plot_h = 4, 20, WIDTH - 8, 110

    def xy(i, v):
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return x, top + plot_h - v / peak * plot_h

    body = [f'<line x1="0" x2="{WIDTH}" y1="{top + plot_h}" y2="{top + plot_h}" class="chart-grid"/>',
            f'<text x="0" y="14" class="chart-axis">{escape(_fmt(peak))}</text>']
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
            body.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="{anchor}" '
                        f'class="chart-axis">{escape(label)}</text>')
    rows = [(label, _fmt(v), *([_fmt(secondary[i])] if secondary else [])) for i, (label, v) in enumerate(points)]
    return _svg(top + plot_h + 21, title, body, headers, rows)


def share_bar(parts: list[tuple[str, float, str]], title: str, headers: tuple[str, str, str] | None = None) -> Markup:
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
        y = 32 + i * 20
        text = f"{label} {_fmt(value)} ({value / total * 100:.0f}%)"
        body.append(f'<rect x="0" y="{y + 2}" width="12" height="12" class="{cls}"/>')
        body.append(f'<text x="18" y="{y + 13}" class="chart-axis">{escape(text)}</text>')
    rows = [(label, _fmt(value), f"{value / total * 100:.0f}%") for label, value, _c in parts]
    return _svg(32 + len(parts) * 20, title, body, headers, rows)
