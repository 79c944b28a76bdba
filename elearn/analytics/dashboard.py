"""Participation analytics (the plan's "dynamic analysis"): an organisation's dashboard over its subtree.

Every figure is a set-based SQL aggregate over the subtree (one indexed ``Organisation.path`` prefix), never
a loop over members in Python: per-member hours come from the summary kept in step with the ledger
(:func:`hours_by_member`), members are judged against their target in SQL (the same pro-rata pace as
:func:`elearn.ledger.requirements.status`), and the result is grouped by organisation and hours bin;
children and sectors are rolled up from those per-organisation rows (as many as organisations, not members).

The grouped rows have two sources with the same shape: computed live for the subtree (:class:`_Live`), or
read from a snapshot a job computed for the whole tree (:class:`_FromSnapshot`, elearn.analytics.models).
A snapshot whose fingerprint matches the data is exact and used for every dashboard; otherwise small subtrees
are computed live and large ones show the latest snapshot with its time while a new one is computed
(:func:`dashboard`). Completions per series over 100,000 members cost seconds live, a roll-up milliseconds.

Members counted: active accounts whose home organisation lies in the subtree (site admins excluded).
Exempt members are counted as exempt and never as behind or at risk.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import (
    select,
)

from elearn import clock
from elearn.access import Role
from elearn.analytics import sources
from elearn.analytics.queries import (
    FLOATS,
    SUMMED,
    Scope,
    in_subtree,
    monthly_rows,
    series_sizes,
)
from elearn.courses.models import Series
from elearn.errors import Forbidden, NotFound
from elearn.extensions import db
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.policy import ANALYTICS, MEMBER_CATEGORIES, SECTORS

log = logging.getLogger(__name__)


def get_org(actor: User, org_id: int | None) -> Organisation:
    """The organisation whose dashboard ``actor`` asked for; 404 outside their reach (ids are not confirmed)."""
    if actor.role not in (Role.ORG_ADMIN, Role.SITE_ADMIN):
        raise Forbidden()
    if org_id is None:
        if actor.role == Role.ORG_ADMIN:
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



def _blank() -> dict:
    return dict.fromkeys(SUMMED, 0)


def _add(into: dict, row: dict) -> None:
    for k in SUMMED:
        into[k] += row[k] or 0
    for k in FLOATS:
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


def _series_completions(counts: dict[int, list[int]]) -> list[dict]:
    """The published series with their started/completed counts (``counts``: series id → [started, completed]),
    most completed first (at most policy.ANALYTICS.series_limit)."""
    sizes = series_sizes().subquery("sizes")
    rows = db.session.execute(select(Series.id, Series.title, Series.required, Series.due_on, sizes.c.n)
                              .join(sizes, sizes.c.series_id == Series.id).where(Series.published.is_(True)))
    out = [{"id": sid, "title": title, "required": req, "due_on": due, "courses": n,
            "started": counts.get(sid, (0, 0))[0], "completed": counts.get(sid, (0, 0))[1]}
           for sid, title, req, due, n in rows]
    out.sort(key=lambda x: (-x["completed"], -x["id"]))
    return out[:ANALYTICS.series_limit]


# -- the dashboard --------------------------------------------------------------------------------------------

def dashboard(actor: User, org: Organisation, today: date | None = None, allow_stale: bool = True) -> dict:
    """Everything the organisation dashboard shows, as plain data (see the keys below).

    ``source`` says where the figures come from: ``live``, or a ``snapshot`` with its time and whether it is
    ``exact`` (nothing changed since). Without any snapshot for a large subtree the result has no figures, and
    ``pending``: the snapshot being computed (or the last one, failed)."""
    if not orgs.can_manage(actor, org):
        raise Forbidden(_("您无权查看该组织的统计。"))
    scope = Scope.of(org, today or clock.site_today())
    src = sources.rows_source(scope, allow_stale)
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
        return dict(head, pending=sources.snapshot_state())
    per_org, bins = _per_org_and_bin(src.org_bin_rows())

    tree = db.session.execute(select(Organisation.id, Organisation.name, Organisation.kind, Organisation.sector,
                                     Organisation.path, Organisation.parent_id)
                              .where(in_subtree(org.path)).order_by(Organisation.id)).all()
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
    child_rows = sorted((dict(_finish({k: c[k] for k in SUMMED}), id=c["id"], name=c["name"], kind=c["kind"],
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
        pending=sources.pending_snapshot() if snap is not None else None,
        source={"kind": src.kind, "taken_at": snap.finished_at if snap else None, "exact": src.exact},
        summary=_finish(totals),
        direct=_finish(direct) if direct and children else None,
        children=child_rows,
        sectors=sorted(({"sector": code, "label": str(SECTORS.get(code, code)), **_finish(agg)}
                        for code, agg in sectors.items()), key=lambda s: s["sector"]),
        histogram=_histogram(bins),
        monthly=monthly_rows(scope),
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
