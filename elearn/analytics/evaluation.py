"""The evaluation report (中期/五年总结评估): for a committee (or a branch) and a period, what the plan's mid-term
and final evaluations ask: coverage (应训尽训), hours against the pro-rated targets by member category, the
innovative-theory share, secretaries' yearly off-job training, meetings against their cadence, needs surveys,
members at risk and a line per child organisation.

:func:`build_report` returns plain data the HTML page and the PDF both render. Every figure is a set-based SQL
aggregate over the subtree (members joined to their ledger rows of the period on the ledger's
``(user_id, credited_on)`` index, grouped per organisation and category), rolled up in Python over those rows
(as many as organisations × categories, never members).

Members counted: the subtree's current active members (as on the dashboard, elearn.analytics.queries), with the
ledger hours credited to them within the period whatever organisation they were in then. A member's target in
the period is their cycle target × the share of the cycle the period covers (days).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, literal, null, select, union_all

from elearn import clock
from elearn.analytics.queries import EPS, Scope, in_subtree, judged, subtree_members, target_expr
from elearn.branch.meetings import meetings_against_cadence
from elearn.branch.surveys import surveys_summary
from elearn.errors import ServiceError
from elearn.extensions import db
from elearn.ledger.models import StudyCredit
from elearn.orgs.models import Organisation
from elearn.policy import EVALUATION, MEMBER_CATEGORIES, ORG_KINDS, POLICY


class BadPeriod(ServiceError):
    default_code = "bad_period"


# -- the period -----------------------------------------------------------------------------------------------

def _cycle_days() -> int:
    return (POLICY.cycle_end - POLICY.cycle_start).days + 1


def presets() -> dict[str, tuple[date, date]]:
    """The plan's two evaluations: mid-term (the cycle's first half) and five-year (the whole cycle)."""
    half = POLICY.cycle_start + timedelta(days=_cycle_days() // 2 - 1)
    return {"midterm": (POLICY.cycle_start, half), "final": (POLICY.cycle_start, POLICY.cycle_end)}


def parse_period(start: str | None, end: str | None, preset: str | None = None) -> tuple[date, date]:
    """The period asked for: a preset, or two ISO dates (``YYYY-MM-DD``); the mid-term preset by default.
    Raises :class:`BadPeriod` with a message for people."""
    if not start and not end:
        choices = presets()
        if preset and preset not in choices:
            raise BadPeriod(_("未知的评估类型。"))
        return choices[preset or "midterm"]
    try:
        lo, hi = date.fromisoformat((start or "").strip()), date.fromisoformat((end or "").strip())
    except ValueError:
        raise BadPeriod(_("日期格式应为 年-月-日，例如 2024-01-01。")) from None
    check_period(lo, hi)
    return lo, hi


def check_period(start: date, end: date) -> None:
    if start.year < EVALUATION.first_year or end.year > EVALUATION.last_year:
        raise BadPeriod(_("评估期间应在 %(a)d 年至 %(b)d 年之间。", a=EVALUATION.first_year, b=EVALUATION.last_year))
    if start > end:
        raise BadPeriod(_("开始日期不能晚于结束日期。"))
    if (end - start).days + 1 > EVALUATION.max_period_days:
        raise BadPeriod(_("评估期间最长 %(years)d 年。", years=EVALUATION.max_period_days // 366))


# -- the report's data ----------------------------------------------------------------------------------------

@dataclass
class Coverage:
    """应训尽训: members who must study and those of them with any credit in the period."""

    label: str
    members: int = 0
    exempt: int = 0
    required: int = 0
    covered: int = 0

    @property
    def share(self) -> float | None:
        return self.covered / self.required if self.required else None


@dataclass
class CategoryHours:
    """Hours of one member category (non-exempt members) against its pro-rated target."""

    category: str
    label: str
    cycle_target: float
    target: float  # pro-rated to the period
    members: int = 0  # required (non-exempt)
    exempt: int = 0
    hours: float = 0.0
    met: int = 0
    median: float | None = None

    @property
    def average(self) -> float | None:
        return round(self.hours / self.members, 2) if self.members else None

    @property
    def met_share(self) -> float | None:
        return self.met / self.members if self.members else None


@dataclass
class TheoryShare:
    hours: float = 0.0
    theory_hours: float = 0.0
    members_with_hours: int = 0  # non-exempt members with any hours in the period
    members_ok: int = 0  # of them, theory ≥ the required share of their own hours
    required_share: float = POLICY.theory_share

    @property
    def share(self) -> float | None:
        return self.theory_hours / self.hours if self.hours else None

    @property
    def meets_rule(self) -> bool | None:
        return None if self.share is None else self.share >= self.required_share - EPS

    @property
    def members_ok_share(self) -> float | None:
        return self.members_ok / self.members_with_hours if self.members_with_hours else None


@dataclass
class SecretaryYear:
    """Basic-level secretaries' off-job training at county level or above in one year of the period."""

    year: int
    start: date
    end: date
    partial: bool  # the period covers only part of the year
    required_hours: float
    secretaries: int = 0
    met: int = 0
    none: int = 0  # no such training at all that year
    hours: float = 0.0

    @property
    def average(self) -> float | None:
        return round(self.hours / self.secretaries, 2) if self.secretaries else None

    @property
    def met_share(self) -> float | None:
        return self.met / self.secretaries if self.secretaries else None


@dataclass
class OrgLine:
    """One child organisation (its whole subtree), or an organisation's own at-risk count."""

    id: int
    name: str
    kind: str
    members: int = 0
    exempt: int = 0
    required: int = 0
    covered: int = 0
    met: int = 0
    hours: float = 0.0  # of required members
    all_hours: float = 0.0
    theory_hours: float = 0.0
    at_risk: int = 0

    @property
    def coverage(self) -> float | None:
        return self.covered / self.required if self.required else None

    @property
    def met_share(self) -> float | None:
        return self.met / self.required if self.required else None

    @property
    def average(self) -> float | None:
        return round(self.hours / self.required, 2) if self.required else None

    @property
    def theory_share(self) -> float | None:
        return self.theory_hours / self.all_hours if self.all_hours else None


@dataclass
class EvaluationReport:
    org_id: int
    org_name: str
    org_kind: str
    start: date
    end: date
    as_of: date  # at-risk members are judged as of this day: the period's end, or today while it runs
    generated_at: datetime
    cycle_share: float  # the share of the cycle the period covers (targets are pro-rated by it)
    coverage: Coverage
    coverage_by_kind: list[Coverage]
    categories: list[CategoryHours]
    theory: TheoryShare
    secretaries: list[SecretaryYear]
    at_risk: int
    at_risk_required: int
    at_risk_by_org: list[OrgLine]  # the organisations with most members at risk
    at_risk_rest: tuple[int, int]  # (organisations, members) beyond that list
    children: list[OrgLine]
    direct: OrgLine | None  # members whose home is the organisation itself, when it has children
    meetings: list[dict] | None = None  # elearn.branch.meetings.meetings_against_cadence
    surveys: list[dict] | None = None  # elearn.branch.surveys.surveys_summary
    notes: list[str] = field(default_factory=list)


def _period_members(path: str, start: date, end: date):
    """Per member of the subtree: hours and theory hours credited within [start, end] — a CTE, materialised:
    both the sums and the medians read it, and it is the one pass over the members' ledger rows."""
    m = subtree_members(path).subquery("m")
    C = StudyCredit
    return (select(m.c.user_id, m.c.organisation_id, m.c.category, m.c.exempt,
                   func.coalesce(func.sum(C.hours), 0.0).label("total"),
                   func.coalesce(func.sum(case((C.innovative_theory.is_(True), C.hours), else_=0.0)), 0.0)
                   .label("theory"))
            .select_from(m)
            .outerjoin(C, and_(C.user_id == m.c.user_id, C.credited_on >= start, C.credited_on <= end))
            .group_by(m.c.user_id, m.c.organisation_id, m.c.category, m.c.exempt)
            .cte("pm").prefix_with("MATERIALIZED"))


def _org_category_rows(path: str, start: date, end: date, share: float) -> tuple[list, dict[str, float]]:
    """Sums per (organisation, category) — the rows every section rolls up from — and the median period hours
    of each category's non-exempt members (window functions), in one statement over one pass."""
    p = _period_members(path, start, end)
    required = p.c.exempt.is_(False)
    target = target_expr(p.c.category) * share
    sums = (select(literal("sum").label("row"), p.c.organisation_id, p.c.category, func.count().label("members"),
                   func.sum(case((required, 0), else_=1)).label("exempt"),
                   func.sum(case((and_(required, p.c.total > EPS), 1), else_=0)).label("covered"),
                   func.sum(case((and_(required, p.c.total >= target - EPS), 1), else_=0)).label("met"),
                   func.sum(case((and_(required, p.c.total > EPS,
                                       p.c.theory >= p.c.total * POLICY.theory_share - EPS), 1), else_=0))
                   .label("theory_ok"),
                   func.sum(case((required, p.c.total), else_=0.0)).label("required_hours"),
                   func.sum(p.c.total).label("hours"), func.sum(p.c.theory).label("theory_hours"))
            .group_by(p.c.organisation_id, p.c.category))
    ranked = (select(p.c.category, p.c.total,
                     func.row_number().over(partition_by=p.c.category, order_by=p.c.total).label("rn"),
                     func.count().over(partition_by=p.c.category).label("n"))
              .where(required)).subquery("r")
    zero, none = literal(0), null()
    # rows (n + 1) // 2 and (n + 2) // 2: the middle one, or the middle two of an even count
    middle = (select(literal("median"), none, ranked.c.category, zero, zero, zero, zero, zero, ranked.c.total,
                     zero, zero)
              .where((ranked.c.rn == (ranked.c.n + 1) // 2) | (ranked.c.rn == (ranked.c.n + 2) // 2)))
    rows: list = []
    found: dict[str, list[float]] = {}
    for r in db.session.execute(union_all(sums, middle)):
        if r.row == "sum":
            rows.append(r)
        else:
            found.setdefault(r.category, []).append(float(r.required_hours))
    return rows, {c: round(sum(v) / len(v), 2) for c, v in found.items()}


def _years(start: date, end: date) -> list[tuple[int, date, date]]:
    return [(y, max(start, date(y, 1, 1)), min(end, date(y, 12, 31))) for y in range(start.year, end.year + 1)]


def _secretary_years(path: str, start: date, end: date) -> list[SecretaryYear]:
    """Per year of the period: non-exempt basic-level secretaries and their off-job training organised at
    county level or above (ledger rows marked ``offjob`` and ``county_level``), against the yearly requirement."""
    years = _years(start, end)
    need = float(POLICY.secretary_yearly_offjob_hours)
    members = subtree_members(path).subquery("m")
    C = StudyCredit
    per_year = [func.coalesce(func.sum(case((and_(C.credited_on >= lo, C.credited_on <= hi), C.hours),
                                            else_=0.0)), 0.0).label(f"y{y}") for y, lo, hi in years]
    per_member = (select(members.c.user_id, *per_year).select_from(members)
                  .outerjoin(C, and_(C.user_id == members.c.user_id, C.credited_on >= start, C.credited_on <= end,
                                     C.offjob.is_(True), C.county_level.is_(True)))
                  .where(members.c.category == "branch_secretary", members.c.exempt.is_(False))
                  .group_by(members.c.user_id)).subquery("sy")
    cols: list[Any] = [func.count()]
    for y, _lo, _hi in years:
        col = per_member.c[f"y{y}"]
        cols += [func.sum(case((col >= need - EPS, 1), else_=0)), func.sum(case((col <= EPS, 1), else_=0)),
                 func.coalesce(func.sum(col), 0.0)]
    row = db.session.execute(select(*cols)).one()
    out = []
    for i, (y, lo, hi) in enumerate(years):
        met, none, hours = row[1 + 3 * i: 4 + 3 * i]
        out.append(SecretaryYear(year=y, start=lo, end=hi, partial=(lo, hi) != (date(y, 1, 1), date(y, 12, 31)),
                                 required_hours=need, secretaries=int(row[0] or 0), met=int(met or 0),
                                 none=int(none or 0), hours=round(float(hours or 0), 2)))
    return out


def _at_risk_by_org(org: Organisation, as_of: date) -> dict[int, int]:
    """Members behind the cycle's pro-rata pace as of ``as_of``, counted per organisation (the dashboard's
    rule: elearn.analytics.queries.judged)."""
    j = judged(Scope.of(org, as_of))
    stmt = (select(j.c.organisation_id, func.sum(j.c.at_risk)).group_by(j.c.organisation_id)
            .having(func.sum(j.c.at_risk) > 0))
    return {oid: int(n) for oid, n in db.session.execute(stmt)}


def build_report(org: Organisation, start: date, end: date) -> EvaluationReport:
    """The evaluation of ``org``'s subtree over ``[start, end]`` (site dates), as plain data. Rights are the
    caller's to check (elearn.analytics.evaluation_views); raises :class:`BadPeriod` for an impossible period."""
    check_period(start, end)
    overlap = (min(end, POLICY.cycle_end) - max(start, POLICY.cycle_start)).days + 1
    share = max(0, overlap) / _cycle_days()
    today = clock.site_today()
    as_of = min(end, today)

    tree = db.session.execute(select(Organisation.id, Organisation.name, Organisation.kind, Organisation.path,
                                     Organisation.parent_id).where(in_subtree(org.path))
                              .order_by(Organisation.path)).all()
    by_id = {o.id: o for o in tree}
    rows, medians = _org_category_rows(org.path, start, end, share)
    risk = _at_risk_by_org(org, as_of)

    total = Coverage(_("合计"))
    kinds = {k: Coverage(str(label)) for k, label in ORG_KINDS.items()}
    categories = {code: CategoryHours(code, str(label), float(POLICY.cycle_hours_for(code)),
                                      round(POLICY.cycle_hours_for(code) * share, 2), median=medians.get(code))
                  for code, label in MEMBER_CATEGORIES.items()}
    theory = TheoryShare()
    children = {o.id: OrgLine(o.id, o.name, o.kind) for o in tree if o.parent_id == org.id}
    direct = OrgLine(org.id, org.name, org.kind)

    def child_of(oid: int) -> OrgLine:
        if oid == org.id:
            return direct
        return children[int(by_id[oid].path[len(org.path):].split("/", 1)[0])]

    for r in sorted(rows, key=lambda r: (r.organisation_id, r.category)):  # a fixed order: the same float sums
        required = int(r.members) - int(r.exempt)
        for cov in (total, kinds.setdefault(by_id[r.organisation_id].kind, Coverage(by_id[r.organisation_id].kind))):
            cov.members += int(r.members)
            cov.exempt += int(r.exempt)
            cov.required += required
            cov.covered += int(r.covered)
        cat = categories.get(r.category)
        if cat is not None:
            cat.members += required
            cat.exempt += int(r.exempt)
            cat.hours = round(cat.hours + float(r.required_hours or 0), 6)
            cat.met += int(r.met)
        theory.hours = round(theory.hours + float(r.hours or 0), 6)
        theory.theory_hours = round(theory.theory_hours + float(r.theory_hours or 0), 6)
        theory.members_with_hours += int(r.covered)
        theory.members_ok += int(r.theory_ok)
        line = child_of(r.organisation_id)
        line.members += int(r.members)
        line.exempt += int(r.exempt)
        line.required += required
        line.covered += int(r.covered)
        line.met += int(r.met)
        line.hours = round(line.hours + float(r.required_hours or 0), 6)
        line.all_hours = round(line.all_hours + float(r.hours or 0), 6)
        line.theory_hours = round(line.theory_hours + float(r.theory_hours or 0), 6)
    for oid, n in risk.items():
        if oid in by_id:
            child_of(oid).at_risk += n

    ranked = sorted(((n, by_id[oid].path, oid) for oid, n in risk.items() if oid in by_id),
                    key=lambda x: (-x[0], x[1]))
    listed = [OrgLine(oid, by_id[oid].name, by_id[oid].kind, at_risk=n)
              for n, _p, oid in ranked[:EVALUATION.at_risk_orgs_listed]]
    rest = ranked[EVALUATION.at_risk_orgs_listed:]
    notes = []
    if share == 0:
        notes.append(_("评估期间不在本周期（%(start)s 至 %(end)s）内，学时目标不适用。",
                       start=POLICY.cycle_start.isoformat(), end=POLICY.cycle_end.isoformat()))
    if end > today:
        notes.append(_("评估期间尚未结束：数据截至 %(day)s。", day=today.isoformat()))
    return EvaluationReport(
        org_id=org.id, org_name=org.name, org_kind=org.kind, start=start, end=end, as_of=as_of,
        generated_at=clock.now_utc(), cycle_share=share, coverage=total,
        coverage_by_kind=[c for c in kinds.values() if c.members],
        categories=list(categories.values()), theory=theory, secretaries=_secretary_years(org.path, start, end),
        at_risk=sum(risk.values()), at_risk_required=total.required, at_risk_by_org=listed,
        at_risk_rest=(len(rest), sum(n for n, _p, _o in rest)),
        children=sorted(children.values(), key=lambda c: c.name),
        direct=direct if children and direct.members else None,
        meetings=meetings_against_cadence(org, start, end), surveys=surveys_summary(org, start, end), notes=notes)
