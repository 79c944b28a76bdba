"""Where the dashboard's grouped rows come from: computed live for a subtree (:class:`_Live`), or read from a
snapshot of the whole tree that a job computed (:class:`_FromSnapshot`); the snapshot's life (request, claim,
compute, heartbeat, prune) and whether one is exact for today's data (:func:`fingerprint`, :func:`policy_hash`)."""
from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime, timedelta
from typing import TypeGuard

from flask import current_app
from sqlalchemy import (
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from elearn import clock
from elearn.analytics import tasks as analytics_tasks
from elearn.analytics.models import (
    AnalyticsDataVersion,
    AnalyticsSnapshot,
    SnapshotOrgRow,
    SnapshotOrgState,
    SnapshotRisk,
    SnapshotSeriesRow,
)
from elearn.analytics.queries import (
    SUMMED,
    Scope,
    at_risk_rows,
    in_subtree,
    member_count,
    org_bin_rows,
    org_states,
    risk_row,
    series_org_rows,
)
from elearn.extensions import db, rowcount
from elearn.ledger.models import OrgMonthStudy
from elearn.orgs.models import Organisation, User
from elearn.policy import ANALYTICS, POLICY

# -- sources of the grouped rows --------------------------------------------------------------------------------

log = logging.getLogger(__name__)


class _Live:
    """Computed now, for the subtree only."""

    kind = "live"
    snapshot = None
    exact = True

    def __init__(self, scope: Scope):
        self.scope = scope

    def org_bin_rows(self) -> list[dict]:
        return org_bin_rows(self.scope)

    def series_rows(self) -> list[tuple[int, int, int, int]]:
        return series_org_rows(self.scope)

    def at_risk(self, limit: int | None) -> list[dict]:
        return [risk_row(r) for r in at_risk_rows(self.scope, limit)]


class _FromSnapshot:
    """Read from a snapshot of the whole tree, restricted to the subtree's organisations."""

    kind = "snapshot"

    def __init__(self, snapshot: AnalyticsSnapshot, scope: Scope, exact: bool):
        self.snapshot, self.scope, self.exact = snapshot, scope, exact
        self.org_ids = select(Organisation.id).where(in_subtree(scope.path)).scalar_subquery()

    def org_bin_rows(self) -> list[dict]:
        r = SnapshotOrgRow
        cols = [r.organisation_id, r.bin, *(getattr(r, k) for k in SUMMED)]
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
        return [risk_row(row) for row in db.session.execute(stmt)]


# -- what the figures depend on ---------------------------------------------------------------------------------

# Bump when the way figures are computed changes: snapshots of an older algorithm are then never shown.
ALGORITHM_VERSION = 1


def policy_hash() -> str:
    """The rules the figures are judged by (cycle, targets, shares, bins) and the algorithm's version."""
    return hashlib.sha256(repr((ALGORITHM_VERSION, POLICY, ANALYTICS.hours_bins)).encode()).hexdigest()[:32]


def data_version() -> int:
    """How many changes other than ledger rows moved the figures (elearn.analytics.tracking)."""
    version = db.session.execute(select(AnalyticsDataVersion.n).where(AnalyticsDataVersion.id == 1)).scalar()
    return int(version or 0)


def fingerprint(today: date, version: int | None = None) -> str:
    """What the figures depend on besides the rules: the day, the ledger's size (append-only; the per
    organisation-month summary counts its rows in the same transaction as each insert) and the data version
    (accounts, series, playable lessons: :func:`track_changes`). Equal fingerprints, equal figures. Reads two
    small tables: as many rows as organisation-months, and one."""
    if version is None:
        version = data_version()
    ledger = db.session.execute(select(func.coalesce(func.sum(OrgMonthStudy.credits), 0))).scalar()
    return f"{today.isoformat()}|{ledger}|{version}"


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


def _is_exact(snap: AnalyticsSnapshot | None, today: date) -> TypeGuard[AnalyticsSnapshot]:
    """``snap`` holds exactly today's figures: taken for this day, from the data there is now."""
    return snap is not None and snap.as_of == today and snap.fingerprint == fingerprint(today)


def _alive_since() -> datetime:
    return clock.now_utc() - timedelta(minutes=ANALYTICS.snapshot_timeout_minutes)


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
    return when >= clock.now_utc() - timedelta(minutes=ANALYTICS.snapshot_every_minutes)


def request_snapshot(today: date | None = None) -> AnalyticsSnapshot:
    """Queue a new snapshot unless one is already on its way; returns the one that will land next.

    Two requests at the same moment on two web nodes may both queue one: the second computation is wasted,
    not wrong."""
    pending = pending_snapshot()
    if pending is not None:
        return pending
    snap = AnalyticsSnapshot(status="queued", as_of=today or clock.site_today(), started_at=clock.now_utc(),
                             policy_hash=policy_hash())
    db.session.add(snap)
    db.session.commit()
    try:
        analytics_tasks.analytics_snapshot.enqueue(snap.id)
    except Exception:  # the queue is down: the page still shows what it has; the row expires as abandoned
        log.exception("could not queue analytics snapshot %s", snap.id)
    db.session.expire_all()  # with jobs run inline it already changed in another session's commit
    return db.session.get(AnalyticsSnapshot, snap.id) or snap


def rows_source(scope: Scope, allow_stale: bool) -> _Live | _FromSnapshot | None:
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
    just_failed = last is not None and last.status == "failed" and _recent(last)
    if (snap is None or snap.as_of != scope.today or not _recent(last)) and not just_failed:
        request_snapshot(scope.today)
        snap = latest_snapshot()  # with jobs run inline (tests, one-off scripts) it is already there
    if snap is None:
        return None
    return _FromSnapshot(snap, scope, exact=_is_exact(snap, scope.today))


# -- the snapshot job -------------------------------------------------------------------------------------------

def _claim(snapshot_id: int, today: date | None) -> AnalyticsSnapshot | None:
    """Mark the queued snapshot running, atomically (as elearn.media.services claims a transcode): a job run
    twice, or one whose snapshot was pruned as abandoned meanwhile, finds nothing to claim."""
    now = clock.now_utc()
    values = {"status": "running", "progress": 1, "started_at": now, "heartbeat_at": now}
    if today is not None:
        values["as_of"] = today
    claimed = rowcount(db.session.execute(update(AnalyticsSnapshot).where(
        AnalyticsSnapshot.id == snapshot_id, AnalyticsSnapshot.status == "queued").values(**values)))
    db.session.commit()
    return db.session.get(AnalyticsSnapshot, snapshot_id) if claimed else None


def take_snapshot(snapshot_id: int | None = None, today: date | None = None,
                  full: bool = False) -> AnalyticsSnapshot | None:
    """Compute the grouped rows for every organisation and store them as a ready snapshot (the job's body;
    without ``snapshot_id``, as the CLI does, a new snapshot). Returns None when there was nothing to claim.

    The fingerprint is read first, so anything that lands meanwhile makes the snapshot inexact (and the next
    refresh picks it up) rather than silently missing. A snapshot queued on an earlier day is computed for
    today. ``full``: recompute every organisation even where an earlier snapshot's rows could be copied."""
    if snapshot_id is None:
        new = AnalyticsSnapshot(status="queued", as_of=today or clock.site_today(), started_at=clock.now_utc(),
                                policy_hash=policy_hash())
        db.session.add(new)
        db.session.commit()
        snapshot_id = new.id
    queued = db.session.get(AnalyticsSnapshot, snapshot_id)
    if queued is not None and today is None and queued.started_at < clock.now_utc() - timedelta(hours=12) \
            and queued.as_of < clock.site_today():
        today = clock.site_today()  # queued long ago for an earlier day (the worker was down): computed for today
    snap = _claim(snapshot_id, today)
    if snap is None:
        return None
    try:
        _compute(snap, full)
        done = rowcount(db.session.execute(update(AnalyticsSnapshot).where(
            AnalyticsSnapshot.id == snap.id, AnalyticsSnapshot.status == "running").values(
            status="ready", progress=100, finished_at=clock.now_utc(), members=snap.members,
            fingerprint=snap.fingerprint, policy_hash=snap.policy_hash, data_version=snap.data_version,
            mode=snap.mode, base_id=snap.base_id, recomputed_orgs=snap.recomputed_orgs)))
        if not done:  # pruned as abandoned while it ran: its rows must not outlive it
            raise RuntimeError(f"analytics snapshot {snap.id} was removed while it was computed")
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        try:
            lost = db.session.get(AnalyticsSnapshot, snapshot_id)
            if lost is not None:
                lost.status, lost.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
                lost.finished_at = clock.now_utc()
                db.session.commit()
        except Exception:  # e.g. the connection is gone: keep the original error
            log.exception("could not mark analytics snapshot %s failed", snapshot_id)
            db.session.rollback()
        raise
    prune_snapshots()
    return db.session.get(AnalyticsSnapshot, snapshot_id)


def _base_for(version: int) -> AnalyticsSnapshot | None:
    """The newest ready snapshot by the current rules at data version ``version``: its rows differ from
    today's only for organisations whose state moved (and, if taken on another day, by the pace)."""
    return db.session.execute(select(AnalyticsSnapshot).where(
        AnalyticsSnapshot.status == "ready", AnalyticsSnapshot.policy_hash == policy_hash(),
        AnalyticsSnapshot.data_version == version).order_by(AnalyticsSnapshot.id.desc()).limit(1)
    ).scalar_one_or_none()


def _changed_orgs(base: AnalyticsSnapshot, states: dict[int, tuple[int, int]]) -> list[int] | None:
    """The organisations whose state differs from ``base``'s (a member credited since, or members gone or
    come), or None when so many changed that recomputing the whole tree is as cheap."""
    old = {oid: (n, credits) for oid, n, credits in db.session.execute(
        select(SnapshotOrgState.organisation_id, SnapshotOrgState.members, SnapshotOrgState.credits)
        .where(SnapshotOrgState.snapshot_id == base.id))}
    changed = sorted(oid for oid in states.keys() | old.keys() if states.get(oid) != old.get(oid))
    if len(changed) > ANALYTICS.incremental_max_orgs or \
            len(changed) > ANALYTICS.incremental_max_share * max(len(states), 1):
        return None
    return changed


def _copy_rows(model, snap_id: int, base_id: int | None, changed: list[int]) -> None:
    """Copy ``base_id``'s rows of ``model`` for the organisations not in ``changed`` into ``snap_id``."""
    t = model.__table__
    cols = [c for c in t.c if c.name != "snapshot_id"]
    db.session.execute(insert(t).from_select(["snapshot_id", *(c.name for c in cols)], select(
        literal(snap_id), *cols).where(t.c.snapshot_id == base_id, t.c.organisation_id.not_in(changed))))


def _rerank(snap_id: int) -> None:
    """Number the snapshot's at-risk rows in the whole tree's order (furthest behind first, ties by username,
    as :func:`elearn.analytics.queries.at_risk_rows` orders them) after copied and new rows were merged."""
    r = SnapshotRisk
    inner = SnapshotRisk.__table__.alias("r2")
    order = (select(inner.c.user_id, (func.row_number().over(
        order_by=(inner.c.hours / inner.c.target, User.username, inner.c.user_id)) - 1).label("rn"))
        .join(User, User.id == inner.c.user_id).where(inner.c.snapshot_id == snap_id)).subquery("o")
    db.session.execute(update(r).where(r.snapshot_id == snap_id, r.user_id == order.c.user_id)
                       .values(rank=order.c.rn))


def _compute(snap: AnalyticsSnapshot, full: bool) -> None:
    """Store the snapshot's rows. What it depends on is read first (the fingerprint, the data version, every
    organisation's state), so anything landing meanwhile makes it inexact, and its organisations changed for
    the next one, rather than silently missing.

    Incremental when a ready snapshot at the same data version exists (the base): only the organisations whose
    state moved since are computed, the others' rows are copied. Completions per series do not depend on the
    day; the pace does, so the per-organisation sums and the at-risk list are copied only from a base of the
    same day and otherwise computed for the whole tree (one pass over the members)."""
    version = data_version()
    snap.fingerprint, snap.policy_hash = fingerprint(snap.as_of, version), policy_hash()
    snap.data_version = version
    states = org_states()
    base = None if full else _base_for(version)
    changed = _changed_orgs(base, states) if base is not None else None
    _step(snap, 10)
    scope = Scope.of(None, snap.as_of)
    same_day = False
    if base is not None and changed is not None:
        snap.mode, snap.base_id, snap.recomputed_orgs = "incremental", base.id, len(changed)
        same_day = base.as_of == snap.as_of
    else:
        snap.mode, snap.base_id, snap.recomputed_orgs = "full", None, len(states)
    copied = []  # the models whose other organisations' rows come from the base

    def part(model, compute) -> list:
        """The rows to compute: of every organisation, or only of the changed ones (the others' copied)."""
        if changed is None or (model is not SnapshotSeriesRow and not same_day):
            return compute(scope)
        copied.append(model)
        return compute(scope.only(changed)) if changed else []

    org_rows = part(SnapshotOrgRow, org_bin_rows)
    _step(snap, 30)
    series_rows = part(SnapshotSeriesRow, series_org_rows)
    _step(snap, 65)
    risk = part(SnapshotRisk, lambda s: at_risk_rows(s, None))
    _step(snap, 80)
    conn = db.session.connection()  # every write after the reads, in the transaction that marks it ready
    if states:
        conn.execute(insert(SnapshotOrgState), [{"snapshot_id": snap.id, "organisation_id": oid, "members": n,
                                                 "credits": credits} for oid, (n, credits) in states.items()])
    for model in copied:
        _copy_rows(model, snap.id, snap.base_id, changed or [])
    if copied and db.session.execute(select(AnalyticsSnapshot.id).where(
            AnalyticsSnapshot.id == snap.base_id, AnalyticsSnapshot.status == "ready")).first() is None:
        # Pruned before its rows were copied (a job slower than the prune's grace): this one would be incomplete.
        raise RuntimeError(f"analytics snapshot {snap.base_id}, the base of {snap.id}, was removed before it was "
                           f"copied")
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
    if SnapshotRisk in copied:
        _rerank(snap.id)
    snap.members = int(db.session.execute(select(func.coalesce(func.sum(SnapshotOrgRow.members), 0))
                                          .where(SnapshotOrgRow.snapshot_id == snap.id)).scalar_one())


def _step(snap: AnalyticsSnapshot, percent: int) -> None:
    snap.progress, snap.heartbeat_at = percent, clock.now_utc()
    db.session.commit()


def prune_snapshots(keep: int = 2) -> int:
    """Remove snapshots nobody can be reading any more; returns how many. Kept: the ``keep`` newest ready ones,
    any ready one replaced less than policy.ANALYTICS.snapshot_every_minutes ago (a request may have chosen
    it just before), and queued or running ones that are alive. Failed ones go after the same few minutes."""
    grace = clock.now_utc() - timedelta(minutes=ANALYTICS.snapshot_every_minutes)
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
        for model in (SnapshotOrgRow, SnapshotSeriesRow, SnapshotRisk, SnapshotOrgState):
            db.session.execute(delete(model).where(model.snapshot_id.in_(old)))
        db.session.execute(delete(AnalyticsSnapshot).where(AnalyticsSnapshot.id.in_(old)))
    db.session.commit()
    return len(old)


def refresh_now() -> AnalyticsSnapshot | None:
    """"Update the figures now" on the dashboard: queue a snapshot unless the latest is exact, one is on its
    way, one finished (or failed) minutes ago, or no dashboard needs snapshots. Returns the snapshot queued or
    pending, else None."""
    today = clock.site_today()
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
    today = today or clock.site_today()
    prune_snapshots()
    if member_count("/") <= current_app.config["ELEARN_ANALYTICS_LIVE_MEMBERS"]:
        return None
    if _is_exact(latest_snapshot(), today):
        return None
    return request_snapshot(today)
