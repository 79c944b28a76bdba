"""Analytics snapshots and exports: the dashboard's figures for the whole tree, computed by a job.

A snapshot holds, per organisation (its own members, not its subtree), exactly the rows the live dashboard
query groups (elearn.analytics.dashboard): sums per hours bin, completions per series and the members behind
pace. Any organisation's dashboard is then a roll-up of its subtree's rows: as many rows as organisations,
whatever the number of members. ``fingerprint`` names the data the snapshot was computed from (the ledger's
size and :class:`AnalyticsDataVersion`), ``policy_hash`` the rules it was judged by, so a dashboard can tell
whether it is still exact.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from elearn.extensions import Base


class AnalyticsSnapshot(Base):
    __tablename__ = "analytics_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)  # running, ready, failed
    progress: Mapped[int] = mapped_column(default=0)  # percent
    fingerprint: Mapped[str] = mapped_column(String(200), default="")
    policy_hash: Mapped[str] = mapped_column(String(64), default="")  # a snapshot of other rules is never shown
    as_of: Mapped[date]  # the day the figures are judged for (pro-rata pace)
    members: Mapped[int] = mapped_column(default=0)
    # The data version (AnalyticsDataVersion.n) it was computed at, with its per-organisation state
    # (SnapshotOrgState): a later snapshot at the same version recomputes only the organisations whose state
    # moved and copies the others' rows from it. None: taken before states were kept; never a base.
    data_version: Mapped[int | None]
    # "full", or "incremental" from the snapshot base_id; recomputed_orgs: organisations computed, not copied.
    mode: Mapped[str] = mapped_column(String(12), default="full", server_default="full")
    base_id: Mapped[int | None]
    recomputed_orgs: Mapped[int] = mapped_column(default=0, server_default="0")
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())  # queued at, then started at
    heartbeat_at: Mapped[datetime | None]  # the running job's last sign of life
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class AnalyticsDataVersion(Base):
    """One row counting changes that move the figures other than ledger rows: accounts (home organisation,
    active, role, category, exemption), series and their courses, lessons and their playable videos. Bumped in
    the same transaction as the change (elearn.analytics.tracking), so a snapshot's fingerprint
    goes stale exactly when such a change commits. Rare writes: admin actions, not study activity."""

    __tablename__ = "analytics_data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class SnapshotOrgRow(Base):
    """Sums over one organisation's own members in one hours bin (bin -1: exempt members)."""

    __tablename__ = "analytics_snapshot_org"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("analytics_snapshot.id"),
                                             primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"),
                                                 primary_key=True)
    bin: Mapped[int] = mapped_column(primary_key=True)
    members: Mapped[int] = mapped_column(default=0)
    exempt: Mapped[int] = mapped_column(default=0)
    on_pace: Mapped[int] = mapped_column(default=0)
    met: Mapped[int] = mapped_column(default=0)
    theory_ok: Mapped[int] = mapped_column(default=0)
    at_risk: Mapped[int] = mapped_column(default=0)
    hours: Mapped[float] = mapped_column(default=0.0)
    theory_hours: Mapped[float] = mapped_column(default=0.0)
    required_hours: Mapped[float] = mapped_column(default=0.0)


class SnapshotOrgState(Base):
    """What one organisation's rows in a snapshot were computed from: its members and the sum of their ledger
    row counts (MemberStudySummary.credits, kept in each credit's transaction), read before the rows were
    computed. Counts only grow, so an equal state means no credit landed for any of its members since; anything
    else that moves the figures (an account, a series, a lesson) moves the data version instead."""

    __tablename__ = "analytics_snapshot_org_state"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("analytics_snapshot.id"),
                                             primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"),
                                                 primary_key=True)
    members: Mapped[int] = mapped_column(default=0)
    credits: Mapped[int] = mapped_column(default=0)


class SnapshotSeriesRow(Base):
    """Members of one organisation who finished at least one course of a series (started) and all (completed)."""

    __tablename__ = "analytics_snapshot_series"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("analytics_snapshot.id"),
                                             primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"),
                                                 primary_key=True)
    started: Mapped[int] = mapped_column(default=0)
    completed: Mapped[int] = mapped_column(default=0)


class SnapshotRisk(Base):
    """A member behind pace when the snapshot was taken; ``rank`` is their place in the whole tree's list
    (furthest behind first, ties by username), so any subtree's list is its rows in rank order. Figures unrounded,
    as the live list computes them."""

    __tablename__ = "analytics_snapshot_risk"
    __table_args__ = (Index("ix_analytics_snapshot_risk_rank", "snapshot_id", "rank"),
                      Index("ix_analytics_snapshot_risk_org", "snapshot_id", "organisation_id", "rank"))

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("analytics_snapshot.id"),
                                             primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    category: Mapped[str] = mapped_column(String(40))
    hours: Mapped[float]
    theory_hours: Mapped[float]
    target: Mapped[float]
    expected: Mapped[float]
    rank: Mapped[int]


class ReportExport(Base):
    """An export file produced by a job for the admin who asked (e.g. the dashboard as XLSX)."""

    __tablename__ = "report_export"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # "analytics"
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued, running, ready, failed
    progress: Mapped[int] = mapped_column(default=0)  # percent
    rows: Mapped[int] = mapped_column(default=0)
    storage_key: Mapped[str | None] = mapped_column(String(300))
    filename: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
    finished_at: Mapped[datetime | None]


__all__ = [
    "AnalyticsDataVersion",
    "AnalyticsSnapshot",
    "ReportExport",
    "SnapshotOrgRow",
    "SnapshotOrgState",
    "SnapshotRisk",
    "SnapshotSeriesRow",
]
