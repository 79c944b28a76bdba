"""Payloads of the training records API (``/api/v1/trainings``)."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, Field

from elearn.extensions import ID_MAX
from elearn.http.paging import PageQuery
from elearn.http.schemas import Payload
from elearn.orgs.schemas import one_of
from elearn.policy import CONTENT_CATEGORIES, ORGANISER_LEVELS, POLICY

if TYPE_CHECKING:
    OrganiserLevel = str
    ContentCategory = str
else:
    OrganiserLevel = one_of(ORGANISER_LEVELS)
    ContentCategory = one_of(CONTENT_CATEGORIES)
# Attendees of one record: a county's training of every branch secretary fits; a bigger list is a mistake.
MAX_ATTENDEES = 2000


class TrainingQuery(PageQuery):
    """Filters of the training records list (all optional, combined)."""

    org: Annotated[int, Field(ge=1, le=ID_MAX)] | None = Field(
        None, description="only records of this organisation's subtree (one the caller manages)")
    offjob: bool | None = Field(None, description="only off-job (脱产) trainings, or only the others")
    ended_from: date | None = Field(None, description="ended on or after this day")
    ended_to: date | None = Field(None, description="ended on or before this day")


class TrainingOut(BaseModel):
    id: int
    organisation_id: int
    title: str
    organiser: str
    organiser_level: str
    offjob: bool
    category: str
    innovative_theory: bool
    starts_on: date
    ends_on: date
    days: float | None
    hours: float
    note: str
    created_at: datetime


class TrainingCreate(Payload):
    """An offline or off-job training to record; every attendee is credited its hours (days × 8, or hours)."""

    organisation_id: Annotated[int, Field(ge=1, le=ID_MAX)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    organiser: Annotated[str, Field(min_length=1, max_length=200)]
    organiser_level: OrganiserLevel
    offjob: bool = False
    category: ContentCategory
    innovative_theory: bool = False
    starts_on: date
    ends_on: date
    days: Annotated[float, Field(ge=0.5, le=31)] | None = Field(None, description="either days or hours")
    hours: Annotated[float, Field(gt=0, le=POLICY.offline_max_hours)] | None = None
    attendees: Annotated[list[Annotated[str, Field(min_length=1, max_length=80)]],
                         Field(min_length=1, max_length=MAX_ATTENDEES, description="usernames")]
    note: Annotated[str, Field(max_length=300)] = ""


class TrainingRecorded(TrainingOut):
    attendees: int = Field(description="members credited")
