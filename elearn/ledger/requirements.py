"""Requirement status of a member in the current cycle (DESIGN.md, "What the plan asks for").

:func:`status` is the one place the rules are evaluated; the dashboard, ``GET /api/v1/me/credits`` and the
analytics reports all use its plain result.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from elearn import clock
from elearn.extensions import db
from elearn.ledger.models import StudyCredit
from elearn.orgs.models import User
from elearn.policy import POLICY, REQUIREMENT_STATES


@dataclass(frozen=True)
class YearStatus:
    year: int
    hours: float
    theory_hours: float
    offjob_county_hours: float
    offjob_required: float | None  # the secretary's yearly off-job requirement; None for others
    offjob_met: bool | None
    past: bool  # the year is over
    current: bool


@dataclass(frozen=True)
class Warning:
    code: str
    message: str


@dataclass(frozen=True)
class RequirementStatus:
    user_id: int
    category: str
    exempt: bool
    cycle_start: date
    cycle_end: date
    today: date
    target_hours: float | None
    total_hours: float
    theory_hours: float
    theory_share: float  # 0..1 of total hours
    theory_required: float
    theory_met: bool
    total_met: bool
    offjob_met: bool | None  # secretaries: every past year and this one met; None for others
    expected_hours: float  # pro rata by today
    state: str  # policy.REQUIREMENT_STATES: exempt, met, on_pace, behind
    years: list[YearStatus] = field(default_factory=list)
    by_category: dict[str, float] = field(default_factory=dict)
    warnings: list[Warning] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return str(REQUIREMENT_STATES[self.state])

    @property
    def percent(self) -> float:
        """Progress toward the target, 0..100 (100 for exempt members with no target)."""
        if not self.target_hours:
            return 100.0
        return min(100.0, 100.0 * self.total_hours / self.target_hours)

    def as_dict(self) -> dict:
        out = asdict(self)
        for key in ("cycle_start", "cycle_end", "today"):
            out[key] = out[key].isoformat()
        out["state_label"] = self.state_label
        out["percent"] = round(self.percent, 1)
        return out


# Sums of hours compare with this much slack (floating-point sums of 0.01-rounded credits).
PACE_EPS = 1e-9


def cycle_fraction(today: date, since: date | None = None) -> float:
    """Share of the member's part of the cycle elapsed by ``today``, after the grace days at its start (0 before,
    1 after). The part starts at the later of the cycle start and ``since`` (the member's joining date): a
    member who joined mid-cycle is not behind on day one."""
    start = max(POLICY.cycle_start, since) if since is not None else POLICY.cycle_start
    if today < start:
        return 0.0
    if today >= POLICY.cycle_end:
        return 1.0
    total = max(1, (POLICY.cycle_end - start).days + 1 - POLICY.pace_grace_days)
    return min(1.0, max(0, (today - start).days + 1 - POLICY.pace_grace_days) / total)


def joined_on(user: User) -> date | None:
    """The day ``user`` joined: the start of their first home membership (a transfer within the site keeps it;
    a member transferred in from elsewhere starts at the transfer-in date). None without a membership."""
    starts = [m.started_on for m in user.memberships if m.kind == "home"]
    return min(starts) if starts else None


@dataclass(frozen=True)
class Pace:
    """The pace rule, the one definition for the member's page (Python numbers) and the dashboards (SQL
    columns): by ``today`` a member should have their target × the elapsed share of the cycle, and is on pace
    with at least that much, or with the whole target. ``expected`` and ``on_pace`` take floats or SQLAlchemy
    column expressions alike."""

    today: date
    since: date | None = None  # the member's joining date (pro rata from it when inside the cycle)

    @property
    def fraction(self) -> float:
        return cycle_fraction(self.today, self.since)

    def expected(self, target: Any) -> Any:
        """Hours expected by today of a member whose cycle target is ``target``."""
        return target * self.fraction

    def on_pace(self, total: Any, target: Any) -> Any:
        """``total`` hours keep pace (``|`` so that the same expression is a bool or an SQL condition)."""
        return (total >= self.expected(target) - PACE_EPS) | (total >= target - PACE_EPS)



def status(user: User, today: date | None = None) -> RequirementStatus:
    """Where ``user`` stands against the cycle's requirements on ``today`` (default: today)."""
    today = today or clock.site_today()
    rows = db.session.execute(select(
        StudyCredit.credited_on, StudyCredit.hours, StudyCredit.innovative_theory, StudyCredit.offjob,
        StudyCredit.county_level, StudyCredit.category,
    ).where(StudyCredit.user_id == user.id, StudyCredit.credited_on >= POLICY.cycle_start,
            StudyCredit.credited_on <= POLICY.cycle_end)).all()
    secretary = user.category == "branch_secretary"
    per_year: dict[int, list[float]] = {y: [0.0, 0.0, 0.0]
                                        for y in range(POLICY.cycle_start.year, POLICY.cycle_end.year + 1)}
    total = theory = 0.0
    by_category: dict[str, float] = {}
    for on, hours, is_theory, offjob, county, category in rows:
        total += hours
        bucket = per_year[on.year]
        bucket[0] += hours
        if is_theory:
            theory += hours
            bucket[1] += hours
        if offjob and county:
            bucket[2] += hours
        if category:
            by_category[category] = round(by_category.get(category, 0.0) + hours, 2)
    total, theory = round(total, 2), round(theory, 2)

    years = []
    for year, (hours, th, off) in sorted(per_year.items()):
        if year > today.year:
            continue
        required = float(POLICY.secretary_yearly_offjob_hours) if secretary else None
        years.append(YearStatus(
            year=year, hours=round(hours, 2), theory_hours=round(th, 2), offjob_county_hours=round(off, 2),
            offjob_required=required, offjob_met=(off >= required - 1e-9) if required is not None else None,
            past=year < today.year, current=year == today.year))

    share = (theory / total) if total > 0 else 0.0
    theory_met = total > 0 and share >= POLICY.theory_share - 1e-9
    warnings: list[Warning] = []
    if user.exempt:
        return RequirementStatus(
            user_id=user.id, category=user.category, exempt=True, cycle_start=POLICY.cycle_start,
            cycle_end=POLICY.cycle_end, today=today, target_hours=None, total_hours=total, theory_hours=theory,
            theory_share=share, theory_required=POLICY.theory_share, theory_met=theory_met, total_met=True,
            offjob_met=None, expected_hours=0.0, state="exempt", years=years, by_category=by_category)

    target = float(POLICY.cycle_hours_for(user.category))
    pace = Pace(today, joined_on(user))
    expected = round(pace.expected(target), 2)
    total_met = total >= target - 1e-9
    offjob_met = all(y.offjob_met for y in years) if secretary else None
    past_offjob_missed = [y for y in years if y.past and y.offjob_met is False]
    current_offjob_open = [y for y in years if y.current and y.offjob_met is False]

    behind = not pace.on_pace(total, target)
    if behind:
        warnings.append(Warning("behind", _("学时进度落后：按期应完成 %(e).1f 学时，已完成 %(t).1f 学时。",
                                            e=expected, t=total)))
    if total > 0 and not theory_met:
        warnings.append(Warning("theory_share", _("党的创新理论学时占比 %(s).0f%%，低于 %(r).0f%% 的要求。",
                                                  s=share * 100, r=POLICY.theory_share * 100)))
    for y in past_offjob_missed:
        warnings.append(Warning("offjob_missed", _("%(y)d 年县级以上脱产培训 %(h).1f 学时，未达到 %(r)d 学时。",
                                                   y=y.year, h=y.offjob_county_hours,
                                                   r=POLICY.secretary_yearly_offjob_hours)))
    for y in current_offjob_open:
        warnings.append(Warning("offjob_open", _("今年还需参加县级以上脱产培训 %(h).1f 学时。",
                                                 h=(y.offjob_required or 0) - y.offjob_county_hours)))

    # A secretary's yearly requirement is only fully met once the cycle's last year is met too.
    offjob_done = offjob_met is None or (offjob_met and today.year >= POLICY.cycle_end.year)
    if total_met and theory_met and offjob_done:
        state = "met"
    elif behind or (total > 0 and not theory_met) or past_offjob_missed \
            or (today > POLICY.cycle_end):
        state = "behind"
    else:
        state = "on_pace"
    return RequirementStatus(
        user_id=user.id, category=user.category, exempt=False, cycle_start=POLICY.cycle_start,
        cycle_end=POLICY.cycle_end, today=today, target_hours=target, total_hours=total, theory_hours=theory,
        theory_share=share, theory_required=POLICY.theory_share, theory_met=theory_met, total_met=total_met,
        offjob_met=offjob_met, expected_hours=expected, state=state, years=years, by_category=by_category,
        warnings=warnings)
