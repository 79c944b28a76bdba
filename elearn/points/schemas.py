"""What the points API answers: the member's study points, the rules that give them and their recent awards."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class PointsRules(BaseModel):
    """The policy table (elearn.policy.POINTS) as numbers."""

    lesson: int
    course: int
    quiz: int
    reading: int
    daily_study: int
    streak_days: int
    streak_bonus: int
    daily_cap: int


class PointsAwardOut(BaseModel):
    reason: str
    reason_label: str
    title: str
    points: int
    capped: bool
    awarded_on: date


class BranchRank(BaseModel):
    organisation_id: int
    rank: int
    members: int


class MyPoints(BaseModel):
    """My study points (学习积分): separate from 学时, never counted as credit."""

    total: int
    year: int
    year_points: int
    today_points: int
    streak_days: int
    rules: PointsRules
    recent: list[PointsAwardOut]
    branch_rank: BranchRank | None  # only while my organisation's ranking is switched on
