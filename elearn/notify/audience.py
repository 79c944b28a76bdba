"""Who a fan-out reaches, as selects of user ids (set-based: the jobs page through them in batches). A member
belongs to their home organisation and to any organisation they study with as a mobile member (an open
inflow membership), as in :mod:`elearn.courses.catalog`."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, false, or_, select, union

from elearn.access import Role
from elearn.courses.models import Series
from elearn.extensions import db
from elearn.orgs.models import Membership, Organisation, User


def _current_orgs():
    """(user id, organisation id) for every organisation a member belongs to now."""
    return union(select(User.id.label("user_id"), User.organisation_id.label("organisation_id")),
                 select(Membership.user_id, Membership.organisation_id).where(Membership.ended_on.is_(None))
                 ).subquery("member_orgs")


def members_where(place: Any, categories: Iterable[str] = ()) -> Select:
    """Active members (not site admins) belonging now to an organisation matching ``place`` (a condition on
    ``Organisation``), of one of ``categories`` when given; ordered by id."""
    orgs = _current_orgs()
    in_place = (select(orgs.c.user_id).join(Organisation, Organisation.id == orgs.c.organisation_id)
                .where(place))
    stmt = select(User.id).where(User.active.is_(True), User.role != Role.SITE_ADMIN, User.id.in_(in_place))
    cats = list(categories)
    if cats:
        stmt = stmt.where(User.category.in_(cats))
    return stmt.order_by(User.id)


def in_subtree(org: Organisation) -> Any:
    return Organisation.path.startswith(org.path, autoescape=True)


def series_members(series: Series) -> Select:
    """The members a series is published to (its sector and organisation targets, narrowed by its member
    categories), whatever its open date."""
    sectors = [t.sector for t in series.targets if t.kind == "sector" and t.sector]
    direct = [t.organisation_id for t in series.targets
              if t.kind == "organisation" and t.organisation_id and not t.include_subtree]
    roots = [db.session.get(Organisation, t.organisation_id) for t in series.targets
             if t.kind == "organisation" and t.organisation_id and t.include_subtree]
    conditions = [Organisation.sector.in_(sectors)] if sectors else []
    if direct:
        conditions.append(Organisation.id.in_(direct))
    conditions += [in_subtree(root) for root in roots if root is not None]
    categories = [t.member_category for t in series.targets if t.kind == "category" and t.member_category]
    return members_where(or_(*conditions) if conditions else false(), categories)


@dataclass(frozen=True)
class Message:
    """One message told to every member of ``audience`` (a select of user ids) at most once, by ``key``."""

    kind: str
    key: str
    title: str
    body: str
    link: str | None
    audience: Select
