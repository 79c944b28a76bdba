"""The grouped SQL behind the dashboard: members of a subtree, their hours from the ledger summaries, judged
against their target at the pace of :mod:`elearn.ledger.requirements`, grouped per organisation and hours bin,
per series, per month, and the members behind pace. Set-based, never a loop over members in Python."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    Row,
    Select,
    and_,
    case,
    distinct,
    func,
    literal,
    or_,
    select,
)

from elearn.access import Role
from elearn.courses.models import Lesson, Series, SeriesCourse
from elearn.extensions import db
from elearn.ledger.models import MemberCourseProgress, MemberStudySummary, OrgMonthStudy, StudyCredit
from elearn.ledger.requirements import PACE_EPS, Pace
from elearn.media.models import MediaAsset
from elearn.orgs.models import Membership, Organisation, User
from elearn.policy import ANALYTICS, MEMBER_CATEGORIES, POLICY

EPS = PACE_EPS


@dataclass(frozen=True)
class Scope:
    path: str  # the subtree's path prefix ("/" for every organisation)
    today: date
    fraction: float  # share of the cycle elapsed by ``today``
    # Only the members whose home is one of these organisations (an incremental snapshot's changed ones).
    orgs: tuple[int, ...] | None = None

    @classmethod
    def of(cls, root: Organisation | None, today: date) -> Scope:
        return cls(path=root.path if root is not None else "/", today=today, fraction=Pace(today).fraction)

    def only(self, orgs: Sequence[int]) -> Scope:
        """The same scope, restricted to the members whose home is one of ``orgs``."""
        return Scope(self.path, self.today, self.fraction, tuple(sorted(orgs)))


# -- building blocks (selects, composed below) --------------------------------------------------------------

def in_subtree(path: str):
    """Organisations whose path starts with ``path`` (which ends with "/"). On SQLite also as the equivalent
    range ``path <= p < path[:-1] + "0"`` (paths hold digits and "/", and "/" sorts just before "0"): SQLite
    cannot use the path index for a LIKE with ESCAPE, and without it plans small subtrees as if they were the
    whole tree. (PostgreSQL keeps only the LIKE: its collation need not order "/" bytewise.)"""
    cond = Organisation.path.startswith(path, autoescape=True)
    if db.session.get_bind().dialect.name == "sqlite":
        cond = and_(cond, Organisation.path >= path, Organisation.path < path[:-1] + "0")
    return cond


def subtree_members(path: str, orgs: Sequence[int] | None = None) -> Select:
    """Members in scope: id, organisation, category, exempt (only those at home in ``orgs``, if given)."""
    stmt = (select(User.id.label("user_id"), User.organisation_id, User.category, User.exempt)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(in_subtree(path), User.active.is_(True), User.role != Role.SITE_ADMIN))
    if orgs is not None:
        stmt = stmt.where(User.organisation_id.in_(orgs))
    return stmt


def org_states() -> dict[int, tuple[int, int]]:
    """Per organisation with members: (members, the sum of their ledger row counts), from the per-member
    summaries (one pass over the accounts): what an incremental snapshot compares to find changed ones."""
    S = MemberStudySummary
    m = subtree_members("/").subquery("m")
    stmt = (select(m.c.organisation_id, func.count(), func.coalesce(func.sum(S.credits), 0))
            .select_from(m).outerjoin(S, S.user_id == m.c.user_id).group_by(m.c.organisation_id))
    return {oid: (int(n), int(credits)) for oid, n, credits in db.session.execute(stmt)}


def member_count(path: str) -> int:
    """Members counted in the subtree at ``path`` (one indexed count)."""
    return db.session.execute(select(func.count()).select_from(subtree_members(path).subquery())).scalar_one()


def future_credits(today: date, start: date, end: date):
    """Ledger rows dated after ``today`` up to ``end`` (and from ``start``): the summaries include them, the
    figures as of ``today`` must not. Normally none or a handful (indexed on ``credited_on``)."""
    return and_(StudyCredit.credited_on > today, StudyCredit.credited_on >= start, StudyCredit.credited_on <= end)


def hours_by_member(path: str, today: date, orgs: Sequence[int] | None = None) -> Select:
    """Per member of the subtree: ledger hours of the cycle up to ``today`` (total, theory).

    One pass over the members joined to their summary row (cycle totals), less any credits dated after
    ``today`` (normally none: a small indexed range of the ledger)."""
    S = MemberStudySummary
    # The member's joining day (the start of their first home membership): the pace counts from it
    # (elearn.ledger.requirements.joined_on, the same rule on the member's own page).
    joined = (select(func.min(Membership.started_on)).where(Membership.user_id == User.id, Membership.kind == "home")
              .correlate(User).scalar_subquery().label("joined"))
    m = (subtree_members(path, orgs).add_columns(S.hours, S.theory_hours, joined).outerjoin(S, S.user_id == User.id)
         .subquery("ms"))
    total, theory = func.coalesce(m.c.hours, 0.0), func.coalesce(m.c.theory_hours, 0.0)
    base = [m.c.user_id, m.c.organisation_id, m.c.category, m.c.exempt, m.c.joined]
    if today >= POLICY.cycle_end:
        return select(*base, total.label("total"), theory.label("theory"))
    future = (select(StudyCredit.user_id, func.sum(StudyCredit.hours).label("hours"),
                     func.sum(case((StudyCredit.innovative_theory.is_(True), StudyCredit.hours), else_=0.0))
                     .label("theory"))
              .where(future_credits(today, POLICY.cycle_start, POLICY.cycle_end))
              .group_by(StudyCredit.user_id)).subquery("future")
    return (select(*base, (total - func.coalesce(future.c.hours, 0.0)).label("total"),
                   (theory - func.coalesce(future.c.theory, 0.0)).label("theory"))
            .outerjoin(future, future.c.user_id == m.c.user_id))


def target_expr(category_col):
    return case(*[(category_col == code, float(POLICY.cycle_hours_for(code))) for code in MEMBER_CATEGORIES],
                else_=float(POLICY.member_cycle_hours))


def _days(start, end: date):
    """Days from the date column ``start`` to ``end`` (a number; SQLite has no date subtraction)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.julianday(literal(end, Date)) - func.julianday(start)
    return literal(end, Date) - start


def member_fraction(joined, today: date):
    """:func:`elearn.ledger.requirements.cycle_fraction` per member in SQL: the share of the member's part of the
    cycle (from the later of the cycle start and their joining day) elapsed by ``today``, after the grace days."""
    if today >= POLICY.cycle_end:
        return literal(1.0)
    start = case((joined > POLICY.cycle_start, joined), else_=literal(POLICY.cycle_start, Date))
    grace = POLICY.pace_grace_days
    elapsed = _days(start, today) + 1 - grace
    total = _days(start, POLICY.cycle_end) + 1 - grace
    share = case((elapsed < 0, 0.0), else_=elapsed) * 1.0 / case((total < 1, 1), else_=total)
    return case((start > literal(today, Date), 0.0), (share > 1.0, 1.0), else_=share)


def judged(scope: Scope):
    """Per member: hours, target, the pro-rata expectation and flags — a subquery."""
    m = hours_by_member(scope.path, scope.today, scope.orgs).subquery("m")
    total, theory = m.c.total, m.c.theory
    target = target_expr(m.c.category)
    # Pace.expected / Pace.on_pace with each member's own fraction (from their joining day).
    expected = target * member_fraction(m.c.joined, scope.today)
    required = m.c.exempt.is_(False)
    on_pace = and_(required, or_(total >= expected - PACE_EPS, total >= target - PACE_EPS))
    theory_ok = and_(required, total > 0, theory >= total * POLICY.theory_share - EPS)
    return (select(m.c.user_id, m.c.organisation_id, m.c.category, m.c.exempt,
                   total.label("total"), theory.label("theory"), target.label("target"),
                   expected.label("expected"),
                   case((on_pace, 1), else_=0).label("on_pace"),
                   case((and_(required, total >= target - EPS), 1), else_=0).label("met"),
                   case((theory_ok, 1), else_=0).label("theory_ok"),
                   case((and_(required, ~on_pace), 1), else_=0).label("at_risk"))).subquery("j")


def hours_bin(j):
    """The index of a member's bin in policy.ANALYTICS.hours_bins (exempt members: -1, not counted)."""
    edges = ANALYTICS.hours_bins
    whens = [(j.c.exempt.is_(True), -1)] + [(j.c.total < edges[i + 1] - EPS, i) for i in range(len(edges) - 1)]
    return case(*whens, else_=len(edges) - 1)


def org_bin_rows(scope: Scope) -> list[dict]:
    """One pass over the members: sums per (organisation, hours bin) — the rows every roll-up starts from."""
    j = judged(scope)
    bin_expr = hours_bin(j)
    stmt = (select(j.c.organisation_id, bin_expr.label("bin"), func.count().label("members"),
                   func.sum(case((j.c.exempt.is_(True), 1), else_=0)).label("exempt"),
                   func.sum(j.c.on_pace).label("on_pace"), func.sum(j.c.met).label("met"),
                   func.sum(j.c.theory_ok).label("theory_ok"), func.sum(j.c.at_risk).label("at_risk"),
                   func.sum(j.c.total).label("hours"), func.sum(j.c.theory).label("theory_hours"),
                   func.sum(case((j.c.exempt.is_(False), j.c.total), else_=0.0)).label("required_hours"))
            .group_by(j.c.organisation_id, bin_expr))
    # Float sums depend on the order the database adds rows in; rounded (far below the ledger's 0.01 学时)
    # they are the same whichever plan computed them, live or for the snapshot.
    return [rounded(dict(r._mapping)) for r in db.session.execute(stmt)]


FLOATS = ("hours", "theory_hours", "required_hours")


def rounded(row: dict) -> dict:
    for k in FLOATS:
        row[k] = round(float(row[k] or 0.0), 6)
    return row


def month_keys(today: date, n: int) -> list[tuple[int, int]]:
    y, m = today.year, today.month
    out = []
    for _i in range(n):
        out.append((y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return list(reversed(out))


def monthly_rows(scope: Scope) -> list[dict]:
    """Hours per month over the last policy.ANALYTICS.trend_months months.

    From the per-(organisation, month) summary: hours count for the organisation that was the member's home
    when they were credited (the ledger's ``organisation_id``), less any credits dated after ``today`` in its
    month (normally none)."""
    M = OrgMonthStudy
    months = month_keys(scope.today, ANALYTICS.trend_months)
    first = date(months[0][0], months[0][1], 1)
    this_month = date(months[-1][0], months[-1][1], 1)
    in_tree = select(Organisation.id).where(in_subtree(scope.path))
    found: dict[tuple[int, int], list[float]] = {}
    stmt = (select(M.month, func.sum(M.hours), func.sum(M.theory_hours))
            .where(M.organisation_id.in_(in_tree), M.month >= first, M.month <= this_month).group_by(M.month))
    for on, hours, theory in db.session.execute(stmt):
        bucket = found.setdefault((on.year, on.month), [0.0, 0.0])
        bucket[0] += float(hours or 0)
        bucket[1] += float(theory or 0)
    month_end = date(this_month.year + this_month.month // 12, this_month.month % 12 + 1, 1)
    future = (select(StudyCredit.credited_on, func.sum(StudyCredit.hours),
                     func.sum(case((StudyCredit.innovative_theory.is_(True), StudyCredit.hours), else_=0.0)))
              .where(StudyCredit.credited_on > scope.today, StudyCredit.credited_on < month_end,
                     StudyCredit.organisation_id.in_(in_tree))
              .group_by(StudyCredit.credited_on))
    for on, hours, theory in db.session.execute(future):
        bucket = found.setdefault((on.year, on.month), [0.0, 0.0])
        bucket[0] -= float(hours or 0)
        bucket[1] -= float(theory or 0)
    return [{"month": f"{a:04d}-{b:02d}", "hours": round(found.get((a, b), (0, 0))[0], 2),
             "theory_hours": round(found.get((a, b), (0, 0))[1], 2)} for a, b in months]


def series_org_rows(scope: Scope) -> list[tuple[int, int, int, int]]:
    """Per (published series, organisation): members of the organisation (in the subtree) who have credit in at
    least one of the series' courses — a lesson or the whole course — (started), and who finished all of them
    (completed).

    A course is finished by a course credit (declared-hours courses) or credits for each of its playable
    lessons (time-credited courses).
    """
    P = MemberCourseProgress
    playable = (select(Lesson.course_id, func.count(Lesson.id).label("n"))
                .join(MediaAsset, MediaAsset.id == Lesson.asset_id).where(MediaAsset.status == "ready")
                .group_by(Lesson.course_id)).subquery("playable")
    finished = (P.whole > 0) | and_(playable.c.n.is_not(None), P.lessons >= playable.c.n)
    members = subtree_members(scope.path, scope.orgs).subquery("sm")
    # Members first, then their own progress rows (primary-key prefix), materialised: the planner cannot turn
    # it around into "for each course of each series, every member of the subtree". Courses outside published
    # series drop out at the join with their series below.
    # A progress row exists once the member has any credit in the course: that is "started".
    done = (select(members.c.user_id, members.c.organisation_id, P.course_id,
                   case((finished, P.course_id), else_=None).label("finished_course"))
            .select_from(members).join(P, P.user_id == members.c.user_id)
            .outerjoin(playable, playable.c.course_id == P.course_id)
            .where((P.lessons > 0) | (P.whole > 0))).cte("done").prefix_with("MATERIALIZED")
    published = select(Series.id).where(Series.published.is_(True))
    per_member = (select(SeriesCourse.series_id, done.c.user_id, done.c.organisation_id,
                         func.count(distinct(done.c.finished_course)).label("finished"))
                  .join(done, done.c.course_id == SeriesCourse.course_id)
                  .where(SeriesCourse.series_id.in_(published))
                  .group_by(SeriesCourse.series_id, done.c.user_id, done.c.organisation_id)).subquery("pm")
    sizes = series_sizes().subquery("sizes")
    stmt = (select(per_member.c.series_id, per_member.c.organisation_id, func.count().label("started"),
                   func.sum(case((per_member.c.finished >= sizes.c.n, 1), else_=0)).label("completed"))
            .join(sizes, sizes.c.series_id == per_member.c.series_id)
            .group_by(per_member.c.series_id, per_member.c.organisation_id))
    return [(sid, oid, int(started), int(completed)) for sid, oid, started, completed in db.session.execute(stmt)]


def series_sizes() -> Select:
    return select(SeriesCourse.series_id, func.count().label("n")).group_by(SeriesCourse.series_id)


def at_risk_rows(scope: Scope, limit: int | None) -> Sequence[Row[Any]]:
    """Non-exempt members behind the pro-rata pace, furthest behind first (ties by username: names are
    encrypted): unrounded rows."""
    j = judged(scope)
    stmt = (select(j.c.user_id, j.c.organisation_id, User.name, User.username, Organisation.name.label("org_name"),
                   j.c.category, j.c.total.label("hours"), j.c.theory.label("theory_hours"), j.c.target,
                   j.c.expected)
            .join(User, User.id == j.c.user_id).join(Organisation, Organisation.id == j.c.organisation_id)
            .where(j.c.at_risk == 1)
            .order_by((j.c.total / j.c.target).asc(), User.username, j.c.user_id))
    if limit is not None:
        stmt = stmt.limit(limit)
    return db.session.execute(stmt).all()


def risk_row(r) -> dict:
    """An at-risk row for pages and exports, rounded from the unrounded figures (live or stored)."""
    hours, expected = float(r.hours), float(r.expected)
    return {"id": r.user_id, "organisation_id": r.organisation_id, "name": r.name, "username": r.username,
            "org_name": r.org_name, "category": r.category, "hours": round(hours, 2),
            "theory_hours": round(float(r.theory_hours), 2), "target": float(r.target),
            "expected": round(expected, 2), "shortfall": round(expected - hours, 2)}


SUMMED = ("members", "exempt", "on_pace", "met", "theory_ok", "at_risk", "hours", "theory_hours",
           "required_hours")
