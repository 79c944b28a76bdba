"""Participation analytics (the plan's "dynamic analysis"): an organisation's dashboard over its subtree.

Every figure is a set-based SQL aggregate over the subtree (one indexed ``Organisation.path`` prefix), never
a loop over members in Python: per-member hours come from the summary kept in step with the ledger
(:func:`_hours_by_member`), members are judged against their target in SQL (the same pro-rata pace as
:func:`elearn.services.requirements.status`), and the result is grouped by organisation and hours bin;
children and sectors are rolled up from those per-organisation rows (as many as organisations, not members).

The grouped rows have two sources with the same shape: computed live for the subtree (:class:`_Live`), or
read from a snapshot a job computed for the whole tree (:class:`_FromSnapshot`, elearn.models.analytics).
A snapshot whose fingerprint matches the data is exact and used for every dashboard; otherwise small subtrees
are computed live and large ones show the latest snapshot with its time while a new one is computed
(:func:`dashboard`). Completions per series over 100,000 members cost seconds live, a roll-up milliseconds.

Members counted: active accounts whose home organisation lies in the subtree (site admins excluded).
Exempt members are counted as exempt and never as behind or at risk.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Date, Select, and_, case, delete, distinct, func, insert, inspect, select, text, update
from sqlalchemy.orm import aliased

from elearn.extensions import db
from elearn.models import Lesson, MediaAsset, Organisation, Series, SeriesCourse, User
from elearn.models.analytics import (AnalyticsDataVersion, AnalyticsSnapshot, SnapshotOrgRow, SnapshotRisk,
                                     SnapshotSeriesRow)
from elearn.models.study import StudyCredit
from elearn.policy import ANALYTICS, MEMBER_CATEGORIES, POLICY, SECTORS
from elearn.services import Forbidden, NotFound, orgs
from elearn.services.ledger import utcnow
from elearn.services.requirements import _cycle_fraction

EPS = 1e-9
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scope:
    path: str  # the subtree's path prefix ("/" for every organisation)
    today: date
    fraction: float  # share of the cycle elapsed by ``today``

    @classmethod
    def of(cls, root: Organisation | None, today: date) -> "Scope":
        return cls(path=root.path if root is not None else "/", today=today, fraction=_cycle_fraction(today))


def get_org(actor: User, org_id: int | None) -> Organisation:
    """The organisation whose dashboard ``actor`` asked for; 404 outside their reach (ids are not confirmed)."""
    if actor.role not in ("org_admin", "site_admin"):
        raise Forbidden()
    if org_id is None:
        if actor.role == "org_admin":
            return actor.organisation
        top = db.session.execute(select(Organisation).where(Organisation.parent_id.is_(None))
                                 .order_by(Organisation.id).limit(1)).scalar_one_or_none()
        if top is None:
            raise NotFound(_("还没有组织。"))
        return top
    org = db.session.get(Organisation, org_id)
    if org is None or not orgs.can_manage(actor, org):
        raise NotFound(_("组织不存在。"))
    return org


# -- building blocks (selects, composed below) --------------------------------------------------------------

def _in_subtree(path: str):
    """Organisations whose path starts with ``path`` (which ends with "/"). On SQLite also as the equivalent
    range ``path <= p < path[:-1] + "0"`` (paths hold digits and "/", and "/" sorts just before "0"): SQLite
    cannot use the path index for a LIKE with ESCAPE, and without it plans small subtrees as if they were the
    whole tree. (PostgreSQL keeps only the LIKE: its collation need not order "/" bytewise.)"""
    cond = Organisation.path.startswith(path, autoescape=True)
    if db.session.get_bind().dialect.name == "sqlite":
        cond = and_(cond, Organisation.path >= path, Organisation.path < path[:-1] + "0")
    return cond


def _members(path: str) -> Select:
    """Members in scope: id, organisation, category, exempt."""
    return (select(User.id.label("user_id"), User.organisation_id, User.category, User.exempt)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(_in_subtree(path), User.active.is_(True), User.role != "site_admin"))


def member_count(path: str) -> int:
    """Members counted in the subtree at ``path`` (one indexed count)."""
    return db.session.execute(select(func.count()).select_from(_members(path).subquery())).scalar_one()


def _future_credits(today: date, start: date, end: date):
    """Ledger rows dated after ``today`` up to ``end`` (and from ``start``): the summaries include them, the
    figures as of ``today`` must not. Normally none or a handful (indexed on ``credited_on``)."""
    return and_(StudyCredit.credited_on > today, StudyCredit.credited_on >= start, StudyCredit.credited_on <= end)


def _hours_by_member(path: str, today: date) -> Select:
    """Per member of the subtree: ledger hours of the cycle up to ``today`` (total, theory).

    One pass over the members joined to their summary row (cycle totals), less any credits dated after
    ``today`` (normally none: a small indexed range of the ledger)."""
    from elearn.models.study import MemberStudySummary as S

    m = _members(path).add_columns(S.hours, S.theory_hours).outerjoin(S, S.user_id == User.id).subquery("ms")
    total, theory = func.coalesce(m.c.hours, 0.0), func.coalesce(m.c.theory_hours, 0.0)
    base = [m.c.user_id, m.c.organisation_id, m.c.category, m.c.exempt]
    if today >= POLICY.cycle_end:
        return select(*base, total.label("total"), theory.label("theory"))
    future = (select(StudyCredit.user_id, func.sum(StudyCredit.hours).label("hours"),
                     func.sum(case((StudyCredit.innovative_theory.is_(True), StudyCredit.hours), else_=0.0))
                     .label("theory"))
              .where(_future_credits(today, POLICY.cycle_start, POLICY.cycle_end))
              .group_by(StudyCredit.user_id)).subquery("future")
    return (select(*base, (total - func.coalesce(future.c.hours, 0.0)).label("total"),
                   (theory - func.coalesce(future.c.theory, 0.0)).label("theory"))
            .outerjoin(future, future.c.user_id == m.c.user_id))


def _target_expr(category_col):
    return case(*[(category_col == code, float(POLICY.cycle_hours_for(code))) for code in MEMBER_CATEGORIES],
                else_=float(POLICY.member_cycle_hours))


def _judged(scope: Scope):
    """Per member: hours, target, the pro-rata expectation and flags — a subquery."""
    m = _hours_by_member(scope.path, scope.today).subquery("m")
    total, theory = m.c.total, m.c.theory
    target = _target_expr(m.c.category)
    expected = target * scope.fraction
    required = m.c.exempt.is_(False)
    on_pace = and_(required, (total >= expected - EPS) | (total >= target - EPS))
    theory_ok = and_(required, total > 0, theory >= total * POLICY.theory_share - EPS)
    return (select(m.c.user_id, m.c.organisation_id, m.c.category, m.c.exempt,
                   total.label("total"), theory.label("theory"), target.label("target"),
                   expected.label("expected"),
                   case((on_pace, 1), else_=0).label("on_pace"),
                   case((and_(required, total >= target - EPS), 1), else_=0).label("met"),
                   case((theory_ok, 1), else_=0).label("theory_ok"),
                   case((and_(required, ~on_pace), 1), else_=0).label("at_risk"))).subquery("j")


def _hours_bin(j):
    """The index of a member's bin in policy.ANALYTICS.hours_bins (exempt members: -1, not counted)."""
    edges = ANALYTICS.hours_bins
    whens = [(j.c.exempt.is_(True), -1)] + [(j.c.total < edges[i + 1] - EPS, i) for i in range(len(edges) - 1)]
    return case(*whens, else_=len(edges) - 1)


def _org_bin_rows(scope: Scope) -> list[dict]:
    """One pass over the members: sums per (organisation, hours bin) — the rows every roll-up starts from."""
    j = _judged(scope)
    bin_expr = _hours_bin(j)
    stmt = (select(j.c.organisation_id, bin_expr.label("bin"), func.count().label("members"),
                   func.sum(case((j.c.exempt.is_(True), 1), else_=0)).label("exempt"),
                   func.sum(j.c.on_pace).label("on_pace"), func.sum(j.c.met).label("met"),
                   func.sum(j.c.theory_ok).label("theory_ok"), func.sum(j.c.at_risk).label("at_risk"),
                   func.sum(j.c.total).label("hours"), func.sum(j.c.theory).label("theory_hours"),
                   func.sum(case((j.c.exempt.is_(False), j.c.total), else_=0.0)).label("required_hours"))
            .group_by(j.c.organisation_id, bin_expr))
    # Float sums depend on the order the database adds rows in; rounded (far below the ledger's 0.01 学时)
    # they are the same whichever plan computed them, live or for the snapshot.
    return [_rounded(dict(r._mapping)) for r in db.session.execute(stmt)]


_FLOATS = ("hours", "theory_hours", "required_hours")


def _rounded(row: dict) -> dict:
    for k in _FLOATS:
        row[k] = round(float(row[k] or 0.0), 6)
    return row


def _per_org_and_bin(rows: list[dict]) -> tuple[dict[int, dict], dict[int, int]]:
    """Sums per organisation, and the hours histogram, from rows grouped by (organisation, bin), added in a
    fixed order so that the same rows always give the same floats."""
    per_org: dict[int, dict] = {}
    bins: dict[int, int] = {}
    for row in sorted(rows, key=lambda r: (r["organisation_id"], r["bin"])):
        b = row["bin"]
        if b >= 0:
            bins[b] = bins.get(b, 0) + row["members"]
        _add(per_org.setdefault(row["organisation_id"], _blank()), row)
    return per_org, bins


_SUMMED = ("members", "exempt", "on_pace", "met", "theory_ok", "at_risk", "hours", "theory_hours",
           "required_hours")


def _blank() -> dict:
    return {k: 0 for k in _SUMMED}


def _add(into: dict, row: dict) -> None:
    for k in _SUMMED:
        into[k] += row[k] or 0
    for k in _FLOATS:
        into[k] = round(into[k], 6)


def _finish(agg: dict) -> dict:
    """Shares and averages from the summed counts (shares of required, i.e. non-exempt, members)."""
    required = agg["members"] - agg["exempt"]
    out = dict(agg)
    out["hours"] = round(float(agg["hours"]), 2)
    out["theory_hours"] = round(float(agg["theory_hours"]), 2)
    out["required"] = required
    out["on_pace_share"] = agg["on_pace"] / required if required else None
    out["met_share"] = agg["met"] / required if required else None
    out["avg_hours"] = round(float(agg["required_hours"]) / required, 2) if required else None
    out["theory_share"] = float(agg["theory_hours"]) / float(agg["hours"]) if agg["hours"] else None
    out.pop("required_hours")
    return out


def _histogram(bins: dict[int, int]) -> list[dict]:
    """Non-exempt members by cycle hours, in the bins of policy.ANALYTICS.hours_bins."""
    edges = ANALYTICS.hours_bins
    out = []
    for i, lo in enumerate(edges):
        hi = edges[i + 1] if i + 1 < len(edges) else None
        label = f"{lo:g}–{hi:g}" if hi is not None else f"≥{lo:g}"
        out.append({"label": label, "low": lo, "high": hi, "count": int(bins.get(i, 0))})
    return out


def _months(today: date, n: int) -> list[tuple[int, int]]:
    y, m = today.year, today.month
    out = []
    for _i in range(n):
        out.append((y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return list(reversed(out))


def _monthly(scope: Scope) -> list[dict]:
    """Hours per month over the last policy.ANALYTICS.trend_months months.

    From the per-(organisation, month) summary: hours count for the organisation that was the member's home
    when they were credited (the ledger's ``organisation_id``), less any credits dated after ``today`` in its
    month (normally none)."""
    from elearn.models.study import OrgMonthStudy as M

    months = _months(scope.today, ANALYTICS.trend_months)
    first = date(months[0][0], months[0][1], 1)
    this_month = date(months[-1][0], months[-1][1], 1)
    in_tree = select(Organisation.id).where(_in_subtree(scope.path))
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


def _series_rows(scope: Scope) -> list[tuple[int, int, int, int]]:
    """Per (published series, organisation): members of the organisation (in the subtree) who finished at least
    one of the series' courses (started), and all of them (completed).

    A course is finished by a course credit (declared-hours courses) or credits for each of its playable
    lessons (time-credited courses).
    """
    from elearn.models.study import MemberCourseProgress as P

    playable = (select(Lesson.course_id, func.count(Lesson.id).label("n"))
                .join(MediaAsset, MediaAsset.id == Lesson.asset_id).where(MediaAsset.status == "ready")
                .group_by(Lesson.course_id)).subquery("playable")
    finished = (P.whole > 0) | and_(playable.c.n.is_not(None), P.lessons >= playable.c.n)
    members = _members(scope.path).subquery("sm")
    # Members first, then their own progress rows (primary-key prefix), materialised: the planner cannot turn
    # it around into "for each course of each series, every member of the subtree". Courses outside published
    # series drop out at the join with their series below.
    done = (select(members.c.user_id, members.c.organisation_id, P.course_id)
            .select_from(members).join(P, P.user_id == members.c.user_id)
            .outerjoin(playable, playable.c.course_id == P.course_id)
            .where(finished)).cte("done").prefix_with("MATERIALIZED")
    published = select(Series.id).where(Series.published.is_(True))
    per_member = (select(SeriesCourse.series_id, done.c.user_id, done.c.organisation_id,
                         func.count(distinct(done.c.course_id)).label("finished"))
                  .join(done, done.c.course_id == SeriesCourse.course_id)
                  .where(SeriesCourse.series_id.in_(published))
                  .group_by(SeriesCourse.series_id, done.c.user_id, done.c.organisation_id)).subquery("pm")
    sizes = _series_sizes().subquery("sizes")
    stmt = (select(per_member.c.series_id, per_member.c.organisation_id, func.count().label("started"),
                   func.sum(case((per_member.c.finished >= sizes.c.n, 1), else_=0)).label("completed"))
            .join(sizes, sizes.c.series_id == per_member.c.series_id)
            .group_by(per_member.c.series_id, per_member.c.organisation_id))
    return [(sid, oid, int(started), int(completed)) for sid, oid, started, completed in db.session.execute(stmt)]


def _series_sizes() -> Select:
    return select(SeriesCourse.series_id, func.count().label("n")).group_by(SeriesCourse.series_id)


def _series_completions(counts: dict[int, list[int]]) -> list[dict]:
    """The published series with their started/completed counts (``counts``: series id → [started, completed]),
    most completed first (at most policy.ANALYTICS.series_limit)."""
    sizes = _series_sizes().subquery("sizes")
    rows = db.session.execute(select(Series.id, Series.title, Series.required, Series.due_on, sizes.c.n)
                              .join(sizes, sizes.c.series_id == Series.id).where(Series.published.is_(True)))
    out = [{"id": sid, "title": title, "required": req, "due_on": due, "courses": n,
            "started": counts.get(sid, (0, 0))[0], "completed": counts.get(sid, (0, 0))[1]}
           for sid, title, req, due, n in rows]
    out.sort(key=lambda x: (-x["completed"], -x["id"]))
    return out[:ANALYTICS.series_limit]


def _at_risk_rows(scope: Scope, limit: int | None) -> list:
    """Non-exempt members behind the pro-rata pace, furthest behind first (ties by name): unrounded rows."""
    j = _judged(scope)
    stmt = (select(j.c.user_id, j.c.organisation_id, User.name, User.username, Organisation.name.label("org_name"),
                   j.c.category, j.c.total.label("hours"), j.c.theory.label("theory_hours"), j.c.target,
                   j.c.expected)
            .join(User, User.id == j.c.user_id).join(Organisation, Organisation.id == j.c.organisation_id)
            .where(j.c.at_risk == 1)
            .order_by((j.c.total / j.c.target).asc(), User.name, j.c.user_id))
    if limit is not None:
        stmt = stmt.limit(limit)
    return db.session.execute(stmt).all()


def _risk_row(r) -> dict:
    """An at-risk row for pages and exports, rounded from the unrounded figures (live or stored)."""
    hours, expected = float(r.hours), float(r.expected)
    return {"id": r.user_id, "organisation_id": r.organisation_id, "name": r.name, "username": r.username,
            "org_name": r.org_name, "category": r.category, "hours": round(hours, 2),
            "theory_hours": round(float(r.theory_hours), 2), "target": float(r.target),
            "expected": round(expected, 2), "shortfall": round(expected - hours, 2)}


# -- sources of the grouped rows --------------------------------------------------------------------------------

class _Live:
    """Computed now, for the subtree only."""

    kind = "live"
    snapshot = None
    exact = True

    def __init__(self, scope: Scope):
        self.scope = scope

    def org_bin_rows(self) -> list[dict]:
        return _org_bin_rows(self.scope)

    def series_rows(self) -> list[tuple[int, int, int, int]]:
        return _series_rows(self.scope)

    def at_risk(self, limit: int | None) -> list[dict]:
        return [_risk_row(r) for r in _at_risk_rows(self.scope, limit)]


class _FromSnapshot:
    """Read from a snapshot of the whole tree, restricted to the subtree's organisations."""

    kind = "snapshot"

    def __init__(self, snapshot: AnalyticsSnapshot, scope: Scope, exact: bool):
        self.snapshot, self.scope, self.exact = snapshot, scope, exact
        self.org_ids = select(Organisation.id).where(_in_subtree(scope.path)).scalar_subquery()

    def org_bin_rows(self) -> list[dict]:
        r = SnapshotOrgRow
        cols = [r.organisation_id, r.bin, *(getattr(r, k) for k in _SUMMED)]
        stmt = select(*cols).where(r.snapshot_id == self.snapshot.id, r.organisation_id.in_(self.org_ids))
        return [dict(row._mapping) for row in db.session.execute(stmt)]

    def series_rows(self) -> list[tuple[int, int, int, int]]:
        r = SnapshotSeriesRow
        stmt = select(r.series_id, r.organisation_id, r.started, r.completed).where(
            r.snapshot_id == self.snapshot.id, r.organisation_id.in_(self.org_ids))
        return [tuple(row) for row in db.session.execute(stmt)]

    def at_risk(self, limit: int | None) -> list[dict]:
        r = SnapshotRisk
        stmt = (select(r.user_id, r.organisation_id, User.name, User.username, Organisation.name.label("org_name"),
                       r.category, r.hours, r.theory_hours, r.target, r.expected)
                .join(User, User.id == r.user_id).join(Organisation, Organisation.id == r.organisation_id)
                .where(r.snapshot_id == self.snapshot.id, r.organisation_id.in_(self.org_ids))
                .order_by(r.rank))
        if limit is not None:
            stmt = stmt.limit(limit)
        return [_risk_row(row) for row in db.session.execute(stmt)]


# -- what the figures depend on ---------------------------------------------------------------------------------

# Bump when the way figures are computed changes: snapshots of an older algorithm are then never shown.
ALGORITHM_VERSION = 1


def site_today() -> date:
    """Today in the site's time zone (BABEL_DEFAULT_TIMEZONE): the same day for web nodes and workers."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def policy_hash() -> str:
    """The rules the figures are judged by (cycle, targets, shares, bins) and the algorithm's version."""
    import hashlib

    return hashlib.sha256(repr((ALGORITHM_VERSION, POLICY, ANALYTICS.hours_bins)).encode()).hexdigest()[:32]


def fingerprint(today: date) -> str:
    """What the figures depend on besides the rules: the day, the ledger's size (append-only; the per
    organisation-month summary counts its rows in the same transaction as each insert) and the data version
    (accounts, series, playable lessons: :func:`track_changes`). Equal fingerprints, equal figures. Reads two
    small tables: as many rows as organisation-months, and one."""
    from elearn.models.study import OrgMonthStudy

    ledger = db.session.execute(select(func.coalesce(func.sum(OrgMonthStudy.credits), 0))).scalar()
    version = db.session.execute(select(AnalyticsDataVersion.n).where(AnalyticsDataVersion.id == 1)).scalar()
    return f"{today.isoformat()}|{ledger}|{version or 0}"


# Attributes whose change moves the figures (besides ledger rows, which the fingerprint counts itself). A
# member's name orders ties in the at-risk list.
_TRACKED = {
    "User": ("organisation_id", "active", "role", "category", "exempt", "name"),
    "Series": ("published",),
    "SeriesCourse": ("series_id", "course_id"),
    "Lesson": ("asset_id", "course_id"),
    "MediaAsset": ("status",),
}
_FLAG = "analytics_data_changed"


def _moves_figures(state, added_or_deleted: bool) -> bool:
    name = state.class_.__name__
    attrs = _TRACKED.get(name)
    if attrs is None:
        return False
    if name == "MediaAsset":
        # A video matters when it becomes or stops being ready (a lesson switching to it is tracked too); an
        # expired old value is unknown, so any change of it counts.
        history = state.attrs.status.history
        old_unknown = not history.deleted and not added_or_deleted
        return "ready" in (*history.added, *history.deleted) or (old_unknown and history.has_changes())
    if added_or_deleted:
        return True
    return any(state.attrs[a].history.has_changes() for a in attrs)


def _note_changes(session, flush_context) -> None:
    """Session hook (after each flush; the flush's states and attribute histories are still there): remember,
    without writing anything yet, that an account, series, series course, lesson or video status the figures
    depend on was added, changed or removed (rows deleted as orphans of a collection included)."""
    if session.info.get(_FLAG):
        return
    added = {inspect(o) for o in session.new}
    for state, (isdelete, listonly) in flush_context.states.items():
        if not listonly and _moves_figures(state, isdelete or state in added):
            session.info[_FLAG] = True
            return


def bump_data_version(session=None) -> None:
    """Count one change of the data the figures depend on, in the session's transaction. Called at commit for
    ORM changes (:func:`_bump_before_commit`); call it after writing tracked tables with Core statements."""
    from elearn.models.study import _dialect_insert

    session = session or db.session
    t = AnalyticsDataVersion.__table__
    conn = session.connection()
    stmt = _dialect_insert(conn)(t).values(id=1, n=1)
    conn.execute(stmt.on_conflict_do_update(index_elements=[t.c.id], set_={"n": t.c.n + 1}))


def _bump_before_commit(session) -> None:
    """At commit, not at the first flush: the version row's lock is then held only while committing (a long
    import flushing its first member early would otherwise block every other admin change)."""
    session.flush()
    if session.info.pop(_FLAG, False):
        bump_data_version(session)


def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction, however it ended (commit, rollback, close)
        session.info.pop(_FLAG, None)


def init_tracking() -> None:
    """Install the session hooks (idempotent; called when the app is built)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_flush", _note_changes):
        event.listen(Session, "after_flush", _note_changes)
        event.listen(Session, "before_commit", _bump_before_commit)
        event.listen(Session, "after_transaction_end", _transaction_ended)


# -- snapshots: which one, queueing, the job ----------------------------------------------------------------------

def latest_snapshot() -> AnalyticsSnapshot | None:
    """The newest ready snapshot judged by the current rules (others are never shown)."""
    return db.session.execute(select(AnalyticsSnapshot).where(AnalyticsSnapshot.status == "ready",
                                                              AnalyticsSnapshot.policy_hash == policy_hash())
                              .order_by(AnalyticsSnapshot.id.desc()).limit(1)).scalar_one_or_none()


def _newest_snapshot() -> AnalyticsSnapshot | None:
    """The newest snapshot of any status (queued, running, ready or failed)."""
    return db.session.execute(select(AnalyticsSnapshot).order_by(AnalyticsSnapshot.id.desc())
                              .limit(1)).scalar_one_or_none()


def _is_exact(snap: AnalyticsSnapshot | None, today: date) -> bool:
    """``snap`` holds exactly today's figures: taken for this day, from the data there is now."""
    return snap is not None and snap.as_of == today and snap.fingerprint == fingerprint(today)


def _alive_since() -> datetime:
    return utcnow() - timedelta(minutes=ANALYTICS.snapshot_timeout_minutes)


def pending_snapshot() -> AnalyticsSnapshot | None:
    """A snapshot queued or being computed, unless it looks abandoned: queued, or silent while running, for
    longer than the policy allows (its worker died; the job that would run it was lost)."""
    alive = _alive_since()
    return db.session.execute(select(AnalyticsSnapshot).where(
        ((AnalyticsSnapshot.status == "queued") & (AnalyticsSnapshot.started_at >= alive))
        | ((AnalyticsSnapshot.status == "running") & (AnalyticsSnapshot.heartbeat_at >= alive)))
        .order_by(AnalyticsSnapshot.id.desc()).limit(1)).scalar_one_or_none()


def snapshot_state() -> AnalyticsSnapshot | None:
    """For the progress bar: the pending snapshot, else the newest of any status (a failure shows as such)."""
    return pending_snapshot() or _newest_snapshot()


def _recent(snap: AnalyticsSnapshot | None) -> bool:
    """Finished (ready or failed) within the last policy.ANALYTICS.snapshot_every_minutes."""
    if snap is None:
        return False
    when = snap.finished_at or snap.started_at
    return when >= utcnow() - timedelta(minutes=ANALYTICS.snapshot_every_minutes)


def request_snapshot(today: date | None = None) -> AnalyticsSnapshot:
    """Queue a new snapshot unless one is already on its way; returns the one that will land next.

    Two requests at the same moment on two web nodes may both queue one: the second computation is wasted,
    not wrong."""
    pending = pending_snapshot()
    if pending is not None:
        return pending
    snap = AnalyticsSnapshot(status="queued", as_of=today or site_today(), started_at=utcnow(),
                             policy_hash=policy_hash())
    db.session.add(snap)
    db.session.commit()
    from elearn.queue import enqueue
    try:
        enqueue("analytics_snapshot", snap.id)
    except Exception:  # the queue is down: the page still shows what it has; the row expires as abandoned
        log.exception("could not queue analytics snapshot %s", snap.id)
    db.session.expire_all()  # with jobs run inline it already changed in another session's commit
    return db.session.get(AnalyticsSnapshot, snap.id) or snap


def _source(scope: Scope, allow_stale: bool):
    """Where the dashboard's rows come from: an exact snapshot, else live for a small subtree (or when a stale
    figure is not acceptable), else the latest snapshot (stale) while a new one is queued; None when there is
    none yet."""
    snap = latest_snapshot()
    if _is_exact(snap, scope.today):
        return _FromSnapshot(snap, scope, exact=True)
    if not allow_stale or member_count(scope.path) <= current_app.config["ELEARN_ANALYTICS_LIVE_MEMBERS"]:
        return _Live(scope)
    # A new snapshot at most every few minutes from page views (the periodic job keeps the same pace), and
    # not right after one failed, so open dashboards on a busy site do not keep a worker computing.
    last = _newest_snapshot()
    if snap is None or snap.as_of != scope.today or not _recent(last):
        if not (last is not None and last.status == "failed" and _recent(last)):
            request_snapshot(scope.today)
            snap = latest_snapshot()  # with jobs run inline (tests, one-off scripts) it is already there
    if snap is None:
        return None
    return _FromSnapshot(snap, scope, exact=_is_exact(snap, scope.today))


# -- the dashboard --------------------------------------------------------------------------------------------

def dashboard(actor: User, org: Organisation, today: date | None = None, allow_stale: bool = True) -> dict:
    """Everything the organisation dashboard shows, as plain data (see the keys below).

    ``source`` says where the figures come from: ``live``, or a ``snapshot`` with its time and whether it is
    ``exact`` (nothing changed since). Without any snapshot for a large subtree the result has no figures, and
    ``pending``: the snapshot being computed (or the last one, failed)."""
    if not orgs.can_manage(actor, org):
        raise Forbidden(_("您无权查看该组织的统计。"))
    scope = Scope.of(org, today or site_today())
    src = _source(scope, allow_stale)
    if src is not None and src.snapshot is not None and src.snapshot.as_of != scope.today:
        scope = Scope.of(org, src.snapshot.as_of)  # a stale snapshot is judged as of its own day
    today = scope.today
    ancestor_ids = [int(x) for x in org.path.strip("/").split("/") if x]
    ancestors = {o.id: o for o in db.session.execute(
        select(Organisation).where(Organisation.id.in_(ancestor_ids))).scalars()}
    crumbs = [{"id": aid, "name": ancestors[aid].name, "reachable": orgs.can_manage(actor, ancestors[aid])}
              for aid in ancestor_ids]
    head = {"org": {"id": org.id, "name": org.name, "kind": org.kind, "sector": org.sector},
            "breadcrumbs": crumbs, "today": today, "cycle_fraction": scope.fraction}
    if src is None:
        return dict(head, pending=snapshot_state())
    per_org, bins = _per_org_and_bin(src.org_bin_rows())

    tree = db.session.execute(select(Organisation.id, Organisation.name, Organisation.kind, Organisation.sector,
                                     Organisation.path, Organisation.parent_id)
                              .where(_in_subtree(org.path)).order_by(Organisation.id)).all()
    totals = _blank()
    children = {o.id: {"id": o.id, "name": o.name, "kind": o.kind, "path": o.path, **_blank()}
                for o in tree if o.parent_id == org.id}
    sectors: dict[str, dict] = {}
    for o in tree:
        row = per_org.get(o.id)
        if row is None:
            continue
        _add(totals, row)
        _add(sectors.setdefault(o.sector, _blank()), row)
        if o.id != org.id:  # the first path segment below the root names the child it rolls up to
            _add(children[int(o.path[len(org.path):].split("/", 1)[0])], row)
    # Members whose home is the root itself, shown as their own line when it has children.
    direct = per_org.get(org.id)
    child_rows = sorted((dict(_finish({k: c[k] for k in _SUMMED}), id=c["id"], name=c["name"], kind=c["kind"],
                              has_children=any(o.parent_id == c["id"] for o in tree))
                         for c in children.values()), key=lambda c: c["name"])
    series_counts: dict[int, list[int]] = {}
    for sid, _oid, started, completed in src.series_rows():
        acc = series_counts.setdefault(sid, [0, 0])
        acc[0] += started
        acc[1] += completed
    snap = src.snapshot
    return dict(
        head,
        pending=pending_snapshot() if snap is not None else None,
        source={"kind": src.kind, "taken_at": snap.finished_at if snap else None, "exact": src.exact},
        summary=_finish(totals),
        direct=_finish(direct) if direct and children else None,
        children=child_rows,
        sectors=sorted(({"sector": code, "label": str(SECTORS.get(code, code)), **_finish(agg)}
                        for code, agg in sectors.items()), key=lambda s: s["sector"]),
        histogram=_histogram(bins),
        monthly=_monthly(scope),
        series=_series_completions(series_counts),
        at_risk=src.at_risk(ANALYTICS.at_risk_limit),
        _source=src,
    )


def at_risk_members(actor: User, org: Organisation, today: date | None = None) -> list[dict]:
    """Every member of the subtree behind pace, furthest behind first (exact: live or a current snapshot)."""
    return dashboard(actor, org, today, allow_stale=False)["_source"].at_risk(None)


def export_rows(actor: User, org: Organisation, today: date | None = None,
                progress: Callable[[float], None] | None = None) -> dict[str, list[list]]:
    """The dashboard as sheets of rows (first row: headers), with every at-risk member, for XLSX export.

    Exact figures: from a current snapshot, else computed live whatever the subtree's size (this runs as a job).
    ``progress`` is told the share done (0…1)."""
    report = progress or (lambda _x: None)
    data = dashboard(actor, org, today, allow_stale=False)
    report(0.4)
    at_risk = data["_source"].at_risk(None)
    report(0.6)

    def pct(x):
        return round(x * 100, 1) if x is not None else None

    s = data["summary"]
    head = [_("组织"), _("党员数"), _("免予要求"), _("进度正常"), _("进度正常占比%"), _("已达标"), _("人均学时"),
            _("总学时"), _("创新理论学时"), _("创新理论占比%"), _("进度落后")]

    def line(name, r):
        return [name, r["members"], r["exempt"], r["on_pace"], pct(r["on_pace_share"]), r["met"], r["avg_hours"],
                r["hours"], r["theory_hours"], pct(r["theory_share"]), r["at_risk"]]

    return {
        _("概览"): [head, line(data["org"]["name"], s)],
        _("下级组织"): [head] + [line(c["name"], c) for c in data["children"]],
        _("领域对比"): [head] + [line(x["label"], x) for x in data["sectors"]],
        _("学时分布"): [[_("学时区间"), _("人数")]] + [[b["label"], b["count"]] for b in data["histogram"]],
        _("月度趋势"): [[_("月份"), _("学时"), _("创新理论学时")]]
        + [[m["month"], m["hours"], m["theory_hours"]] for m in data["monthly"]],
        _("专题完成"): [[_("专题"), _("课程数"), _("已开始"), _("已完成")]]
        + [[x["title"], x["courses"], x["started"], x["completed"]] for x in data["series"]],
        _("进度落后党员"): [[_("姓名"), _("用户名"), _("组织"), _("类别"), _("已完成学时"), _("按期应完成"),
                          _("周期目标"), _("差额")]]
        + [[r["name"], r["username"], r["org_name"], str(MEMBER_CATEGORIES.get(r["category"], r["category"])),
            r["hours"], r["expected"], r["target"], r["shortfall"]] for r in at_risk],
    }


# -- the snapshot job -------------------------------------------------------------------------------------------

def _claim(snapshot_id: int, today: date | None) -> AnalyticsSnapshot | None:
    """Mark the queued snapshot running, atomically (as elearn.services.media claims a transcode): a job run
    twice, or one whose snapshot was pruned as abandoned meanwhile, finds nothing to claim."""
    now = utcnow()
    values = {"status": "running", "progress": 1, "started_at": now, "heartbeat_at": now}
    if today is not None:
        values["as_of"] = today
    claimed = db.session.execute(update(AnalyticsSnapshot).where(
        AnalyticsSnapshot.id == snapshot_id, AnalyticsSnapshot.status == "queued").values(**values)).rowcount
    db.session.commit()
    return db.session.get(AnalyticsSnapshot, snapshot_id) if claimed else None


def take_snapshot(snapshot_id: int | None = None, today: date | None = None) -> AnalyticsSnapshot | None:
    """Compute the grouped rows for every organisation and store them as a ready snapshot (the job's body;
    without ``snapshot_id``, as the CLI does, a new snapshot). Returns None when there was nothing to claim.

    The fingerprint is read first, so anything that lands meanwhile makes the snapshot inexact (and the next
    refresh picks it up) rather than silently missing. A snapshot queued on an earlier day is computed for
    today."""
    if snapshot_id is None:
        snap = AnalyticsSnapshot(status="queued", as_of=today or site_today(), started_at=utcnow(),
                                 policy_hash=policy_hash())
        db.session.add(snap)
        db.session.commit()
        snapshot_id = snap.id
    queued = db.session.get(AnalyticsSnapshot, snapshot_id)
    if queued is not None and today is None and queued.started_at < utcnow() - timedelta(hours=12) \
            and queued.as_of < site_today():
        today = site_today()  # queued long ago for an earlier day (the worker was down): computed for today
    snap = _claim(snapshot_id, today)
    if snap is None:
        return None
    try:
        scope = Scope.of(None, snap.as_of)
        snap.fingerprint, snap.policy_hash = fingerprint(snap.as_of), policy_hash()
        org_rows = _org_bin_rows(scope)
        _step(snap, 30)
        series_rows = _series_rows(scope)
        _step(snap, 65)
        risk = _at_risk_rows(scope, None)
        _step(snap, 80)
        conn = db.session.connection()
        if org_rows:
            conn.execute(insert(SnapshotOrgRow), [dict(r, snapshot_id=snap.id) for r in org_rows])
        if series_rows:
            conn.execute(insert(SnapshotSeriesRow), [
                {"snapshot_id": snap.id, "series_id": sid, "organisation_id": oid, "started": st, "completed": co}
                for sid, oid, st, co in series_rows])
        for start in range(0, len(risk), 5000):
            conn.execute(insert(SnapshotRisk), [
                {"snapshot_id": snap.id, "user_id": r.user_id, "organisation_id": r.organisation_id,
                 "category": r.category, "hours": float(r.hours), "theory_hours": float(r.theory_hours),
                 "target": float(r.target), "expected": float(r.expected), "rank": start + i}
                for i, r in enumerate(risk[start:start + 5000])])
        snap.members = sum(r["members"] for r in org_rows)
        done = db.session.execute(update(AnalyticsSnapshot).where(
            AnalyticsSnapshot.id == snap.id, AnalyticsSnapshot.status == "running").values(
            status="ready", progress=100, finished_at=utcnow(), members=snap.members,
            fingerprint=snap.fingerprint, policy_hash=snap.policy_hash)).rowcount
        if not done:  # pruned as abandoned while it ran: its rows must not outlive it
            raise RuntimeError(f"analytics snapshot {snap.id} was removed while it was computed")
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        try:
            lost = db.session.get(AnalyticsSnapshot, snapshot_id)
            if lost is not None:
                lost.status, lost.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
                lost.finished_at = utcnow()
                db.session.commit()
        except Exception:  # e.g. the connection is gone: keep the original error
            log.exception("could not mark analytics snapshot %s failed", snapshot_id)
            db.session.rollback()
        raise
    prune_snapshots()
    return db.session.get(AnalyticsSnapshot, snapshot_id)


def _step(snap: AnalyticsSnapshot, percent: int) -> None:
    snap.progress, snap.heartbeat_at = percent, utcnow()
    db.session.commit()


def prune_snapshots(keep: int = 2) -> int:
    """Remove snapshots nobody can be reading any more; returns how many. Kept: the ``keep`` newest ready ones,
    any ready one replaced less than policy.ANALYTICS.snapshot_every_minutes ago (a request may have chosen
    it just before), and queued or running ones that are alive. Failed ones go after the same few minutes."""
    grace = utcnow() - timedelta(minutes=ANALYTICS.snapshot_every_minutes)
    snaps = db.session.execute(select(AnalyticsSnapshot).order_by(AnalyticsSnapshot.id.desc())).scalars().all()
    alive = _alive_since()
    old, newer_ready_at = [], None
    ready_seen = 0
    for s in snaps:  # newest first
        if s.status == "ready":
            ready_seen += 1
            if ready_seen > keep and newer_ready_at is not None and newer_ready_at < grace:
                old.append(s.id)
            newer_ready_at = s.finished_at or s.started_at
        elif s.status == "failed":
            if (s.finished_at or s.started_at) < grace:
                old.append(s.id)
        elif (s.heartbeat_at or s.started_at) < alive:  # queued or running, abandoned
            old.append(s.id)
    if old:
        for model in (SnapshotOrgRow, SnapshotSeriesRow, SnapshotRisk):
            db.session.execute(delete(model).where(model.snapshot_id.in_(old)))
        db.session.execute(delete(AnalyticsSnapshot).where(AnalyticsSnapshot.id.in_(old)))
    db.session.commit()
    return len(old)


def refresh_now() -> AnalyticsSnapshot | None:
    """"Update the figures now" on the dashboard: queue a snapshot unless the latest is exact, one is on its
    way, one finished (or failed) minutes ago, or no dashboard needs snapshots. Returns the snapshot queued or
    pending, else None."""
    today = site_today()
    if _is_exact(latest_snapshot(), today):
        return None
    pending = pending_snapshot()
    if pending is not None:
        return pending
    if member_count("/") <= current_app.config["ELEARN_ANALYTICS_LIVE_MEMBERS"]:
        return None  # every dashboard is computed live anyway
    if _recent(_newest_snapshot()):
        return None  # at most one every few minutes, however many admins click
    return request_snapshot(today)


def refresh_if_changed(today: date | None = None) -> AnalyticsSnapshot | None:
    """The periodic job: queue a snapshot when the data changed since the latest one, if any subtree is too
    large to compute live. Returns the snapshot queued (or already pending), else None."""
    today = today or site_today()
    prune_snapshots()
    if member_count("/") <= current_app.config["ELEARN_ANALYTICS_LIVE_MEMBERS"]:
        return None
    if _is_exact(latest_snapshot(), today):
        return None
    return request_snapshot(today)


# -- summaries ------------------------------------------------------------------------------------------------

def rebuild_summaries(commit: bool = True) -> dict[str, int]:
    """Recompute the analytics summary tables from the ledger (after bulk imports or a change of the cycle).

    Kept in step with every credit otherwise (elearn.models.study.apply_credit_to_summaries). On PostgreSQL
    the ledger is share-locked meanwhile so no credit slips between the delete and the recount; SQLite
    serialises writers anyway."""
    from elearn.models.study import MemberCourseProgress, MemberStudySummary, OrgMonthStudy

    sc = StudyCredit
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(text("LOCK TABLE study_credit IN SHARE MODE"))
        month = func.cast(func.date_trunc("month", sc.credited_on), Date)
    else:
        month = func.strftime("%Y-%m-01", sc.credited_on)
    for model in (MemberStudySummary, OrgMonthStudy, MemberCourseProgress):
        db.session.execute(delete(model))
    in_cycle = and_(sc.credited_on >= POLICY.cycle_start, sc.credited_on <= POLICY.cycle_end)
    theory = case((sc.innovative_theory.is_(True), sc.hours), else_=0.0)
    db.session.execute(insert(MemberStudySummary).from_select(
        ["user_id", "hours", "theory_hours", "credits", "last_credited_on"],
        select(sc.user_id, func.coalesce(func.sum(case((in_cycle, sc.hours), else_=0.0)), 0.0),
               func.coalesce(func.sum(case((in_cycle, theory), else_=0.0)), 0.0), func.count(),
               func.max(sc.credited_on)).group_by(sc.user_id)))
    db.session.execute(insert(OrgMonthStudy).from_select(
        ["organisation_id", "month", "hours", "theory_hours", "credits"],
        select(sc.organisation_id, month, func.sum(sc.hours), func.sum(theory), func.count())
        .group_by(sc.organisation_id, month)))
    lesson = case((sc.source_kind == "lesson", 1), else_=0)
    whole = case((sc.kind == "course", 1), else_=0)
    corrections = aliased(StudyCredit)
    corrected = (select(corrections.id).where(corrections.source_kind == "correction",
                                              corrections.source_id == sc.id, corrections.user_id == sc.user_id)
                 .exists())
    db.session.execute(insert(MemberCourseProgress).from_select(
        ["user_id", "course_id", "lessons", "whole"],
        select(sc.user_id, sc.course_id, func.sum(lesson), func.sum(whole))
        .where(sc.course_id.is_not(None), (sc.source_kind == "lesson") | (sc.kind == "course"), ~corrected)
        .group_by(sc.user_id, sc.course_id)))
    counts = {m.__tablename__: db.session.execute(select(func.count()).select_from(m)).scalar_one()
              for m in (MemberStudySummary, OrgMonthStudy, MemberCourseProgress)}
    bump_data_version()  # rows may have come in behind the ORM: no snapshot of before counts as current
    if commit:
        db.session.commit()
    return counts
