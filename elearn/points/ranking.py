"""The branch ranking of this year's study points, and the organisation setting that switches it on.

An org admin over an organisation switches the ranking on or off for it (audited ``points.ranking``), or lets it
follow the organisation above again; the nearest choice on an organisation's path holds, and without any the
ranking is off. Its members see their own organisation's ranking only while it is on; whoever runs the branch
(elearn.branch.officers.may_manage_branch) always does; to anyone else it does not exist.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from elearn import clock
from elearn.audit import services as audit
from elearn.branch import officers
from elearn.errors import NotFound, ServiceError
from elearn.extensions import db
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.points.awards import year_bounds
from elearn.points.models import PointsAward, PointsRankingSetting

# the choices of the setting: on, off, or as the organisation above
CHOICES = ("on", "off", "inherit")


def _path_ids(org: Organisation) -> list[int]:
    return [int(part) for part in org.path.strip("/").split("/") if part] or [org.id]


def choices_on_path(org: Organisation) -> dict[int, bool]:
    """Explicit choices of ``org`` and the organisations above it, by organisation id."""
    return dict(db.session.execute(select(PointsRankingSetting.organisation_id, PointsRankingSetting.enabled)
                                   .where(PointsRankingSetting.organisation_id.in_(_path_ids(org)))).tuples().all())


def all_choices() -> dict[int, bool]:
    """Every explicit choice (one row per organisation that made one), for a page listing many organisations."""
    return dict(db.session.execute(select(PointsRankingSetting.organisation_id, PointsRankingSetting.enabled))
                .tuples().all())


def effective(org: Organisation, explicit: dict[int, bool] | None = None) -> bool:
    """Is the ranking on for ``org``: the nearest explicit choice on its path, else off."""
    found = choices_on_path(org) if explicit is None else explicit
    for org_id in reversed(_path_ids(org)):
        if org_id in found:
            return found[org_id]
    return False


def may_see(user: User, org: Organisation) -> bool:
    """Those who run the branch always; its own members while the ranking is on; nobody else."""
    if officers.may_manage_branch(user, org):
        return True
    return user.organisation_id == org.id and effective(org)


def visible_org(user: User, org_id: int) -> Organisation:
    """The organisation ``org_id`` if ``user`` may see its ranking; NotFound otherwise (nothing confirmed)."""
    try:
        org = orgs.get(org_id)
    except NotFound:
        raise NotFound(_("组织不存在。")) from None
    if not may_see(user, org):
        raise NotFound(_("组织不存在。"))
    return org


def set_choice(actor: User, org: Organisation, choice: str | None) -> bool:
    """Switch the ranking of ``org`` on, off, or back to the organisation above (audited); True when changed.

    Only an admin over ``org`` may; a choice other than :data:`CHOICES` changes nothing."""
    orgs.require_manage(actor, org)
    if choice not in CHOICES:
        raise ServiceError(_("请选择开启、关闭或跟随上级。"), "bad_choice")
    row = db.session.get(PointsRankingSetting, org.id)
    before = None if row is None else ("on" if row.enabled else "off")
    if before == choice or (row is None and choice == "inherit"):
        return False
    if choice == "inherit":
        assert row is not None
        db.session.delete(row)
    elif row is None:
        db.session.add(PointsRankingSetting(organisation_id=org.id, enabled=choice == "on", updated_by_id=actor.id,
                                            updated_at=clock.now_utc()))
    else:
        row.enabled, row.updated_by_id, row.updated_at = choice == "on", actor.id, clock.now_utc()
    audit.record(actor, "points.ranking", org, before={"choice": before or "inherit"}, after={"choice": choice})
    db.session.commit()
    return True


@dataclass(frozen=True)
class RankRow:
    rank: int  # equal points, equal rank (1, 1, 3)
    user_id: int
    name: str
    points: int


def branch_ranking(org: Organisation, year: int | None = None) -> list[RankRow]:
    """The active members whose home is ``org``, by this year's points (those without any: 0), best first."""
    start, end = year_bounds(year or clock.site_today().year)
    members = select(User.id).where(User.organisation_id == org.id)
    earned = (select(PointsAward.user_id, func.sum(PointsAward.points).label("points"))
              .where(PointsAward.user_id.in_(members), PointsAward.awarded_on.between(start, end))
              .group_by(PointsAward.user_id).subquery())
    points = func.coalesce(earned.c.points, 0)
    found = db.session.execute(
        select(User, points).outerjoin(earned, earned.c.user_id == User.id)
        .where(User.organisation_id == org.id, User.active.is_(True)).order_by(points.desc(), User.id)).tuples().all()
    rows: list[RankRow] = []
    for position, (user, value) in enumerate(found, start=1):
        rank = rows[-1].rank if rows and rows[-1].points == int(value) else position
        rows.append(RankRow(rank=rank, user_id=user.id, name=user.name, points=int(value)))
    return rows


def my_place(user: User) -> tuple[RankRow, int] | None:
    """The member's row in their own organisation's ranking and how many it ranks, while it is on; else None."""
    if not effective(user.organisation):
        return None
    rows = branch_ranking(user.organisation)
    mine = next((r for r in rows if r.user_id == user.id), None)
    return (mine, len(rows)) if mine is not None else None
