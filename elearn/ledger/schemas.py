"""What the ledger API answers: a member's hours against the cycle's requirements, and their entries."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel


class YearStatus(BaseModel):
    year: int
    hours: float
    theory_hours: float
    offjob_county_hours: float
    offjob_required: float | None
    offjob_met: bool | None
    past: bool
    current: bool


class PaceWarning(BaseModel):
    code: str
    message: str


class CreditEntry(BaseModel):
    id: int
    credited_on: date
    kind: str
    title: str
    hours: float
    category: str | None
    innovative_theory: bool
    offjob: bool
    county_level: bool


class Credits(BaseModel):
    """The requirement status of the member (see elearn.ledger.requirements) and their ledger entries."""

    user_id: int
    category: str
    exempt: bool
    state: Literal["exempt", "met", "on_pace", "behind"]
    state_label: str
    total_hours: float
    target_hours: float | None
    expected_hours: float
    theory_hours: float
    theory_share: float
    theory_required: float
    theory_met: bool
    total_met: bool
    offjob_met: bool | None
    percent: float
    cycle_start: date
    cycle_end: date
    today: date
    years: list[YearStatus]
    by_category: dict[str, float]
    warnings: list[PaceWarning]
    entries: list[CreditEntry]
