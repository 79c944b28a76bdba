"""Charts readable without sight: each chart of the analytics dashboard and of a member's /me page carries its
figures in a visually hidden table (the picture itself hidden from screen readers), and those figures are the
data's."""
from html.parser import HTMLParser

from elearn import clock
from elearn.extensions import db
from elearn.ledger.models import StudyCredit


class _ChartTables(HTMLParser):
    """The tables of class ``chart-table``: {caption: [[cell, ...], ...]} (header row first)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._rows: list[list[str]] | None = None
        self._text: list[str] | None = None
        self._caption = ""

    def handle_starttag(self, tag, attrs):
        if tag == "table" and "chart-table" in (dict(attrs).get("class") or ""):
            self._rows, self._caption = [], ""
        elif self._rows is not None and tag == "tr":
            self._rows.append([])
        elif self._rows is not None and tag in ("th", "td", "caption"):
            self._text = []

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._rows is None:
            return
        if tag == "caption":
            self._caption, self._text = "".join(self._text or []).strip(), None
        elif tag in ("th", "td"):
            self._rows[-1].append("".join(self._text or []).strip())
            self._text = None
        elif tag == "table":
            self.tables[self._caption], self._rows = self._rows, None


def _chart_tables(html: str) -> dict[str, list[list[str]]]:
    parser = _ChartTables()
    parser.feed(html)
    return parser.tables


def test_dashboard_charts_carry_their_figures_in_hidden_tables(client, auth, make_org, make_user):
    town = make_org("镇党委")
    branch = make_org("东村支部", kind="branch", parent=town)
    make_user("townadmin", org=town, role="org_admin")
    member = make_user("member1", org=branch, name="东村党员")
    make_user("member2", org=branch, name="西村党员")
    db.session.add(StudyCredit(user_id=member.id, hours=12.5, kind="lesson", source_kind="lesson", source_id=1,
                               title="t", innovative_theory=True, credited_on=clock.site_today(),
                               organisation_id=branch.id))
    db.session.commit()
    auth.login("townadmin")
    html = client.get("/analytics/").get_data(as_text=True)
    tables = _chart_tables(html)
    assert {"学时进度", "学时分布（人数）", "月度学时"} <= tables.keys(), tables.keys()
    assert '<svg class="chart" viewBox="0 0 320' in html and 'aria-hidden="true"' in html

    monthly = tables["月度学时"]
    assert monthly[0] == ["月份", "全部学时", "党的创新理论学时"]
    assert monthly[-1] == [clock.site_today().strftime("%y-%m"), "12.5", "12.5"]  # the latest month last
    pace = {row[0]: row[1:] for row in tables["学时进度"][1:]}
    assert set(pace) == {"进度正常", "进度落后", "免予要求"}
    members = sum(int(n) for n, _share in pace.values())
    assert members == 3  # the admin and the two members
    histogram = tables["学时分布（人数）"]
    assert histogram[0] == ["学时", "人数"]
    assert sum(int(r[1]) for r in histogram[1:]) == members - int(pace["免予要求"][0])


def test_member_yearly_hours_chart_carries_its_figures(client, auth, make_org, make_user):
    branch = make_org("东村支部", kind="branch", parent=make_org("镇党委"))
    member = make_user("member1", org=branch, name="东村党员")
    db.session.add(StudyCredit(user_id=member.id, hours=7.5, kind="lesson", source_kind="lesson", source_id=1,
                               title="t", innovative_theory=False, credited_on=clock.site_today(),
                               organisation_id=branch.id))
    db.session.commit()
    auth.login("member1")
    years = _chart_tables(client.get("/me/").get_data(as_text=True))["各年度学时柱状图"]
    assert years[0] == ["年度", "学时", "党的创新理论学时"]
    assert [str(clock.site_today().year), "7.5", "0.0"] in years[1:]
