"""Participation analytics (the plan's "dynamic analysis"): an organisation's dashboard over its subtree.

Every figure is a set-based SQL aggregate over the subtree (one indexed ``Organisation.path`` prefix), never
a loop over members in Python: per-member hours are a grouped subquery of the ledger
(:func:`_hours_by_member`), members are judged against their target in SQL (the same pro-rata pace as
:func:`elearn.services.requirements.status`), and the result is grouped by organisation once; children and
sectors are rolled up from those per-organisation rows (as many as organisations, not members).

Members counted: active accounts whose home organisation lies in the subtree (site admins excluded).
Exempt members are counted as exempt and never as behind or at risk.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import Date, Select, and_, case, delete, distinct, func, insert, select, text

from elearn.extensions import db
from elearn.models import Lesson, MediaAsset, Organisation, Series, SeriesCourse, User
from elearn.models.study import StudyCredit
from elearn.policy import ANALYTICS, MEMBER_CATEGORIES, POLICY, SECTORS
from elearn.services import Forbidden, NotFound, orgs
from elearn.services.requirements import _cycle_fraction

EPS = 1e-9


@dataclass(frozen=True)
class Scope:
    root: Organisation
    today: date
    fraction: float  # share of the cycle elapsed by ``today``


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

def _members(root: Organisation) -> Select:
    """Members in scope: id, organisation, category, exempt."""
    return (select(User.id.label("user_id"), User.organisation_id, User.category, User.exempt)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(Organisation.path.startswith(root.path, autoescape=True), User.active.is_(True),
                   User.role != "site_admin"))


def _future_credits(today: date, start: date, end: date):
    """Ledger rows dated after ``today`` up to ``end`` (and from ``start``): the summaries include them, the
    figures as of ``today`` must not. Normally none or a handful (indexed on ``credited_on``)."""
    return and_(StudyCredit.credited_on > today, StudyCredit.credited_on >= start, StudyCredit.credited_on <= end)


def _hours_by_member(root: Organisation, today: date) -> Select:
    """Per member of the subtree: ledger hours of the cycle up to ``today`` (total, theory).

    One pass over the members joined to their summary row (cycle totals), less any credits dated after
    ``today`` (normally none: a small indexed range of the ledger)."""
    from elearn.models.study import MemberStudySummary as S

    m = _members(root).add_columns(S.hours, S.theory_hours).outerjoin(S, S.user_id == User.id).subquery("ms")
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
    m = _hours_by_member(scope.root, scope.today).subquery("m")
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


def _per_org_and_bin(j) -> tuple[list[dict], dict[int, int]]:
    """One pass over the members: sums per organisation, and the hours histogram (grouped by both)."""
    bin_expr = _hours_bin(j)
    stmt = (select(j.c.organisation_id, bin_expr.label("bin"), func.count().label("members"),
                   func.sum(case((j.c.exempt.is_(True), 1), else_=0)).label("exempt"),
                   func.sum(j.c.on_pace).label("on_pace"), func.sum(j.c.met).label("met"),
                   func.sum(j.c.theory_ok).label("theory_ok"), func.sum(j.c.at_risk).label("at_risk"),
                   func.sum(j.c.total).label("hours"), func.sum(j.c.theory).label("theory_hours"),
                   func.sum(case((j.c.exempt.is_(False), j.c.total), else_=0.0)).label("required_hours"))
            .group_by(j.c.organisation_id, bin_expr))
    per_org: dict[int, dict] = {}
    bins: dict[int, int] = {}
    for r in db.session.execute(stmt):
        row = dict(r._mapping)
        oid, b = row.pop("organisation_id"), row.pop("bin")
        if b >= 0:
            bins[b] = bins.get(b, 0) + row["members"]
        _add(per_org.setdefault(oid, _blank()), row)
    return [dict(v, organisation_id=k) for k, v in per_org.items()], bins


_SUMMED = ("members", "exempt", "on_pace", "met", "theory_ok", "at_risk", "hours", "theory_hours",
           "required_hours")


def _blank() -> dict:
    return {k: 0 for k in _SUMMED}


def _add(into: dict, row: dict) -> None:
    for k in _SUMMED:
        into[k] += row[k] or 0


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
    in_tree = select(Organisation.id).where(Organisation.path.startswith(scope.root.path, autoescape=True))
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


def _series_completions(scope: Scope) -> list[dict]:
    """Per published series: members of the subtree who finished at least one of its courses, and all.

    A course is finished by a course credit (declared-hours courses) or credits for each of its playable
    lessons (time-credited courses).
    """
    from elearn.models.study import MemberCourseProgress as P

    in_series = (select(SeriesCourse.course_id).join(Series, Series.id == SeriesCourse.series_id)
                 .where(Series.published.is_(True)))
    playable = (select(Lesson.course_id, func.count(Lesson.id).label("n"))
                .join(MediaAsset, MediaAsset.id == Lesson.asset_id).where(MediaAsset.status == "ready")
                .group_by(Lesson.course_id)).subquery("playable")
    finished = (P.whole > 0) | and_(playable.c.n.is_not(None), P.lessons >= playable.c.n)
    members = _members(scope.root).subquery("sm")
    done = (select(P.user_id, P.course_id).join(members, members.c.user_id == P.user_id)
            .outerjoin(playable, playable.c.course_id == P.course_id)
            .where(P.course_id.in_(in_series), finished)).subquery("done")
    published = select(Series.id).where(Series.published.is_(True))
    per_member = (select(SeriesCourse.series_id, done.c.user_id,
                         func.count(distinct(done.c.course_id)).label("finished"))
                  .join(done, done.c.course_id == SeriesCourse.course_id)
                  .where(SeriesCourse.series_id.in_(published))
                  .group_by(SeriesCourse.series_id, done.c.user_id)).subquery("pm")
    sizes = (select(SeriesCourse.series_id, func.count().label("n")).group_by(SeriesCourse.series_id)
             .subquery("sizes"))
    counts = (select(per_member.c.series_id, func.count().label("started"),
                     func.sum(case((per_member.c.finished >= sizes.c.n, 1), else_=0)).label("completed"))
              .join(sizes, sizes.c.series_id == per_member.c.series_id)
              .group_by(per_member.c.series_id)).subquery("counts")
    stmt = (select(Series.id, Series.title, Series.required, Series.due_on, sizes.c.n,
                   func.coalesce(counts.c.started, 0), func.coalesce(counts.c.completed, 0))
            .join(sizes, sizes.c.series_id == Series.id)
            .outerjoin(counts, counts.c.series_id == Series.id)
            .where(Series.published.is_(True))
            .order_by(func.coalesce(counts.c.completed, 0).desc(), Series.id.desc())
            .limit(ANALYTICS.series_limit))
    return [{"id": sid, "title": title, "required": req, "due_on": due, "courses": n, "started": int(started),
             "completed": int(completed)} for sid, title, req, due, n, started, completed in db.session.execute(stmt)]


def at_risk_members(scope: Scope, limit: int | None = None) -> list[dict]:
    """Non-exempt members behind the pro-rata pace, furthest behind first."""
    j = _judged(scope)
    stmt = (select(j.c.user_id, User.name, User.username, Organisation.name.label("org_name"), j.c.category,
                   j.c.total, j.c.theory, j.c.target, j.c.expected)
            .join(User, User.id == j.c.user_id).join(Organisation, Organisation.id == j.c.organisation_id)
            .where(j.c.at_risk == 1)
            .order_by((j.c.total / j.c.target).asc(), User.name, j.c.user_id))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [{"id": r.user_id, "name": r.name, "username": r.username, "org_name": r.org_name,
             "category": r.category, "hours": round(float(r.total), 2), "theory_hours": round(float(r.theory), 2),
             "target": float(r.target), "expected": round(float(r.expected), 2),
             "shortfall": round(float(r.expected) - float(r.total), 2)} for r in db.session.execute(stmt)]


# -- the dashboard --------------------------------------------------------------------------------------------

def dashboard(actor: User, org: Organisation, today: date | None = None) -> dict:
    """Everything the organisation dashboard shows, as plain data (see the keys below)."""
    if not orgs.can_manage(actor, org):
        raise Forbidden(_("您无权查看该组织的统计。"))
    today = today or date.today()
    scope = Scope(root=org, today=today, fraction=_cycle_fraction(today))
    j = _judged(scope)
    rows, bins = _per_org_and_bin(j)
    per_org = {r["organisation_id"]: r for r in rows}

    tree = db.session.execute(select(Organisation.id, Organisation.name, Organisation.kind, Organisation.sector,
                                     Organisation.path, Organisation.parent_id)
                              .where(Organisation.path.startswith(org.path, autoescape=True))).all()
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
    ancestor_ids = [int(x) for x in org.path.strip("/").split("/") if x]
    ancestors = {o.id: o for o in db.session.execute(
        select(Organisation).where(Organisation.id.in_(ancestor_ids))).scalars()}
    crumbs = [{"id": aid, "name": ancestors[aid].name, "reachable": orgs.can_manage(actor, ancestors[aid])}
              for aid in ancestor_ids]
    return {
        "org": {"id": org.id, "name": org.name, "kind": org.kind, "sector": org.sector},
        "breadcrumbs": crumbs,
        "today": today,
        "cycle_fraction": scope.fraction,
        "summary": _finish(totals),
        "direct": _finish(direct) if direct and children else None,
        "children": child_rows,
        "sectors": sorted(({"sector": code, "label": str(SECTORS.get(code, code)), **_finish(agg)}
                           for code, agg in sectors.items()), key=lambda s: s["sector"]),
        "histogram": _histogram(bins),
        "monthly": _monthly(scope),
        "series": _series_completions(scope),
        "at_risk": at_risk_members(scope, ANALYTICS.at_risk_limit),
    }


def export_rows(actor: User, org: Organisation, today: date | None = None) -> dict[str, list[list]]:
    """The dashboard as sheets of rows (first row: headers), with every at-risk member, for XLSX export."""
    data = dashboard(actor, org, today)
    scope = Scope(root=org, today=data["today"], fraction=data["cycle_fraction"])

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
            r["hours"], r["expected"], r["target"], r["shortfall"]] for r in at_risk_members(scope)],
    }




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
        ["organisation_id", "month", "hours", "theory_hours"],
        select(sc.organisation_id, month, func.sum(sc.hours), func.sum(theory)).group_by(sc.organisation_id, month)))
    lesson = case((sc.source_kind == "lesson", 1), else_=0)
    whole = case((sc.kind == "course", 1), else_=0)
    db.session.execute(insert(MemberCourseProgress).from_select(
        ["user_id", "course_id", "lessons", "whole"],
        select(sc.user_id, sc.course_id, func.sum(lesson), func.sum(whole))
        .where(sc.course_id.is_not(None), (sc.source_kind == "lesson") | (sc.kind == "course"))
        .group_by(sc.user_id, sc.course_id)))
    counts = {m.__tablename__: db.session.execute(select(func.count()).select_from(m)).scalar_one()
              for m in (MemberStudySummary, OrgMonthStudy, MemberCourseProgress)}
    if commit:
        db.session.commit()
    return counts
