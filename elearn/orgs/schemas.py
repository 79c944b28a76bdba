"""Payloads of the organisation and member admin API (``/api/v1/orgs``, ``/api/v1/members``)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, Field

from elearn.extensions import ID_MAX
from elearn.http.paging import PageQuery
from elearn.http.schemas import Payload
from elearn.orgs.contacts import stored_length
from elearn.policy import MEMBER_CATEGORIES, ROLES


def one_of(values: Iterable[str]) -> Any:
    """A text field that must be one of the policy table's codes (an ``enum`` in the OpenAPI document)."""
    allowed = tuple(values)

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value
    return Annotated[str, AfterValidator(check), Field(json_schema_extra={"enum": list(allowed)})]


OrgId = Annotated[int, Field(ge=1, le=ID_MAX)]
if TYPE_CHECKING:
    Role = str
    Category = str
else:
    Role = one_of(ROLES)
    Category = one_of(MEMBER_CATEGORIES)
Name = Annotated[str, Field(min_length=1, max_length=stored_length("name"))]
Phone = Annotated[str, Field(max_length=stored_length("phone"))]
Email = Annotated[str, Field(max_length=stored_length("email"))]
Reason = Annotated[str, Field(max_length=stored_length("exempt_reason"))]


class OrganisationOut(BaseModel):
    id: int
    name: str
    kind: str
    sector: str
    parent_id: int | None
    county_level_or_above: bool
    depth: int
    children: int = Field(description="how many organisations sit directly below")
    members: int = Field(description="active members whose home organisation this is")


class OrgListQuery(PageQuery):
    pass


class MemberQuery(PageQuery):
    """Filters of the member list (all optional, combined)."""

    org: OrgId | None = Field(None, description="only this organisation's subtree (one the caller manages)")
    q: Annotated[str, Field(max_length=100)] = Field("", description="part of the username, or the whole name, "
                                                                       "phone number or e-mail address")
    role: Role | None = None
    category: Category | None = None
    active: bool | None = None
    exempt: bool | None = None


class OrgRef(BaseModel):
    id: int
    name: str


class MemberOut(BaseModel):
    """A member as their admin sees them (contact details masked where the admin may not see them in full)."""

    id: int
    username: str
    name: str
    role: str
    category: str
    exempt: bool
    exempt_reason: str | None
    phone: str | None
    email: str | None
    active: bool
    party_joined_on: date | None = Field(None, description="the day the member joined the party (political birthday)")
    organisation: OrgRef
    created_at: datetime


class MembershipOut(BaseModel):
    organisation: OrgRef
    kind: str
    responsible: bool
    started_on: date
    ended_on: date | None


class MemberDetail(MemberOut):
    manageable: bool = Field(description="the caller may change this member (not only see the record)")
    memberships: list[MembershipOut]


class MemberCreate(Payload):
    username: Annotated[str, Field(min_length=1, max_length=80)]
    name: Name
    password: Annotated[str, Field(min_length=1, max_length=200)]
    organisation_id: OrgId
    role: Role = "member"
    category: Category = "member"
    exempt: bool = False
    exempt_reason: Reason | None = None
    phone: Phone | None = None
    email: Email | None = None
    party_joined_on: date | None = None


class MemberUpdate(Payload):
    """The fields to change (absent ones stay as they are; only the contact details and the exemption reason
    may be null, which clears them, and the party-joining date)."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset({"name", "role", "category", "exempt", "active"})

    name: Name | None = None
    role: Role | None = None
    category: Category | None = None
    exempt: bool | None = None
    exempt_reason: Reason | None = None
    phone: Phone | None = None
    email: Email | None = None
    active: bool | None = None
    party_joined_on: date | None = None


class ImportProblem(BaseModel):
    row: int = Field(description="as numbered in the spreadsheet (the heading is row 1)")
    username: str
    reasons: list[str]


class GeneratedPassword(BaseModel):
    username: str
    password: str


class ImportReport(BaseModel):
    """All rows imported (``ok``) or none, with the reasons per rejected row; passwords generated for rows
    without one are shown this once."""

    ok: bool
    total: int
    imported: int
    problems: list[ImportProblem]
    generated_passwords: list[GeneratedPassword]
