"""The SVG charts: labels that do not collide, and legends readable as text."""
import itertools
import re

from elearn.analytics import charts


def _label_xs(svg: str) -> list[float]:
    axis_label = r'<text x="([\d.]+)" y="[\d.]+" text-anchor="[a-z]+" class="chart-axis">'
    return [float(x) for x in re.findall(axis_label, svg)]


def test_month_labels_are_evenly_spaced_and_end_with_the_latest():
    points = [(f"26-{m:02d}", float(m)) for m in range(1, 13)]
    svg = str(charts.line(points, "月度学时"))
    labels = re.findall(r'class="chart-axis">([^<]+)</text>', svg)
    assert labels[-1] == "26-12" and "26-11" not in labels  # the two last months would overlap
    xs = _label_xs(svg)
    gaps = [b - a for a, b in itertools.pairwise(xs)]
    assert min(gaps) > 40 and max(gaps) - min(gaps) < 0.2  # coordinates are written to 0.1


def test_share_bar_legend_lists_every_part_with_its_share():
    svg = str(charts.share_bar([("进度正常", 3, "chart-ok"), ("进度落后", 1, "chart-bad")], "学时进度"))
    assert "进度正常 3 (75%)" in svg and "进度落后 1 (25%)" in svg
