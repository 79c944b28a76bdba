"""Payloads of the branch meetings API (``/api/v1/branch/…``)."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, Field

from elearn.branch.meeting_models import ATTENDANCE_STATUSES
from elearn.extensions import ID_MAX
from elearn.http.schemas import Payload, QueryArgs
from elearn.orgs.schemas import one_of
from elearn.policy import MEETINGS

if TYPE_CHECKING:
    MeetingKindCode = str
    AttendanceStatus = str
else:
    MeetingKindCode = one_of(MEETINGS.kinds)
    AttendanceStatus = one_of(ATTENDANCE_STATUSES)
Id = Annotated[int, Field(ge=1, le=ID_MAX)]
# Marks of one request: a branch is at most a few hundred members.
MAX_MARKS = 1000


class MeetingQuery(QueryArgs):
    org: Id = Field(description="the organisation (one the caller runs)")
    year: Annotated[int, Field(ge=MEETINGS.first_year, le=9999)] | None = Field(
        None, description="meetings starting in this year (site time); default this year")


class MeetingCreate(Payload):
    organisation_id: Id
    kind: MeetingKindCode
    title: Annotated[str, Field(min_length=1, max_length=MEETINGS.title_max)]
    starts_at: datetime = Field(description="site local time, without an offset")
    ends_at: datetime = Field(description="site local time, without an offset")
    place: Annotated[str, Field(max_length=MEETINGS.place_max)] = ""
    online_url: Annotated[str, Field(max_length=500)] = ""
    host_id: Id | None = None
    lecturer_id: Id | None = None
    lesson_id: Id | None = None
    agenda: Annotated[str, Field(max_length=MEETINGS.agenda_max_chars)] = ""


class Mark(Payload):
    user_id: Id
    status: AttendanceStatus
    reason: Annotated[str, Field(max_length=MEETINGS.reason_max)] = ""


class AttendanceBody(Payload):
    marks: Annotated[list[Mark], Field(min_length=1, max_length=MAX_MARKS)]


class AttendanceOut(BaseModel):
    user_id: int
    status: str
    reason: str
    method: str
    credited: bool


class MeetingOut(BaseModel):
    id: int
    organisation_id: int
    kind: str
    kind_label: str
    title: str
    starts_at: datetime = Field(description="UTC")
    ends_at: datetime = Field(description="UTC")
    place: str
    online_url: str
    status: str
    credit_hours: float


class MeetingDetail(MeetingOut):
    agenda: str
    minutes: str
    attendance: list[AttendanceOut]


class MeetingList(BaseModel):
    items: list[MeetingOut]


class Changed(BaseModel):
    changed: int


class CadenceQuery(QueryArgs):
    org: Id
    start: date
    end: date


class CadenceRow(BaseModel):
    kind: str
    label: str
    held: int
    expected: int
    branches: int
    branches_on_cadence: int


class CadenceOut(BaseModel):
    items: list[CadenceRow]
