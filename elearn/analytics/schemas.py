"""Payloads of the analytics API (``/api/v1/analytics/orgs/<id>``): the dashboard's figures as data."""
from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class Figures(BaseModel):
    """Counts of members of a subtree and their hours; shares are of required (non-exempt) members."""

    members: int
    exempt: int
    required: int
    on_pace: int
    met: int
    theory_ok: int
    at_risk: int
    hours: float
    theory_hours: float
    on_pace_share: float | None
    met_share: float | None
    avg_hours: float | None
    theory_share: float | None


class ChildFigures(Figures):
    id: int
    name: str
    kind: str
    has_children: bool


class SectorFigures(Figures):
    sector: str
    label: str


class HoursBin(BaseModel):
    label: str
    low: float
    high: float | None
    count: int


class MonthHours(BaseModel):
    month: str = Field(description="YYYY-MM")
    hours: float
    theory_hours: float


class SeriesFigures(BaseModel):
    id: int
    title: str
    required: bool
    due_on: date | None
    courses: int
    started: int
    completed: int


class AtRiskMember(BaseModel):
    id: int
    organisation_id: int
    name: str
    username: str
    org_name: str
    category: str
    hours: float
    theory_hours: float
    target: float
    expected: float
    shortfall: float


class OrgSummary(BaseModel):
    id: int
    name: str
    kind: str
    sector: str


class FiguresSource(BaseModel):
    kind: str = Field(description="live, or snapshot")
    taken_at: datetime | None
    exact: bool = Field(description="nothing changed since the snapshot")


class SnapshotState(BaseModel):
    id: int
    status: str
    progress: int = Field(description="percent")


class Dashboard(BaseModel):
    """The figures of the organisation dashboard. ``status`` ``pending``: a large subtree has no snapshot yet,
    one is being computed (``pending``), and the figures are null/empty until it is ready."""

    status: str = Field(description="ready or pending")
    org: OrgSummary
    today: date
    cycle_fraction: float
    source: FiguresSource | None = None
    pending: SnapshotState | None = None
    summary: Figures | None = None
    direct: Figures | None = Field(None, description="members whose home is the organisation itself")
    children: list[ChildFigures] = []
    sectors: list[SectorFigures] = []
    histogram: list[HoursBin] = []
    monthly: list[MonthHours] = []
    series: list[SeriesFigures] = []
    at_risk: list[AtRiskMember] = []
