"""Organisation tree: creation, subtree queries, who may manage what."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from elearn.access import Role
from elearn.audit import services as audit
from elearn.errors import Forbidden, NotFound, ServiceError
from elearn.extensions import ID_MAX, db
from elearn.orgs.models import Organisation, User
from elearn.policy import ORG_CHILD_KINDS, ORG_KINDS, SECTORS


def get(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id) if 0 < org_id <= ID_MAX else None
    if org is None:
        raise NotFound(_("组织不存在。"))
    return org


def admin_root(user: User) -> Organisation | None:
    """The organisation whose subtree ``user`` administers; None for users who administer nothing."""
    if user.role == Role.SITE_ADMIN:
        return None  # everything; callers check can_manage for site admins separately
    if user.role == Role.ORG_ADMIN:
        return user.organisation
    return None


def can_manage(user: User, org: Organisation) -> bool:
    """A site admin manages everything, an org admin their own subtree, nobody else anything."""
    if not user.is_authenticated or not user.active:
        return False
    if user.role == Role.SITE_ADMIN:
        return True
    return user.role == Role.ORG_ADMIN and org.is_within(user.organisation)


def require_manage(user: User, org: Organisation) -> None:
    if not can_manage(user, org):
        raise Forbidden(_("您无权管理该组织。"))


def managed_orgs(user: User) -> list[Organisation]:
    """Every organisation ``user`` may manage, in tree order."""
    stmt = select(Organisation).order_by(Organisation.path)
    if user.role == Role.ORG_ADMIN:
        stmt = stmt.where(Organisation.path.startswith(user.organisation.path))
    elif user.role != Role.SITE_ADMIN:
        return []
    return list(db.session.execute(stmt).scalars())


def subtree_ids(org: Organisation) -> list[int]:
    stmt = select(Organisation.id).where(Organisation.path.startswith(org.path))
    return list(db.session.execute(stmt).scalars())


def create(actor: User | None, *, name: str, kind: str, sector: str, parent: Organisation | None = None,
           county_level_or_above: bool = False, commit: bool = True) -> Organisation:
    """Create an organisation under ``parent`` (None: a top-level committee, site admins only)."""
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("请填写组织名称。"), "name_required")
    if kind not in ORG_KINDS:
        raise ServiceError(_("未知的组织类型。"), "bad_kind")
    if sector not in SECTORS:
        raise ServiceError(_("未知的领域。"), "bad_sector")
    if parent is None:
        if actor is not None and actor.role != Role.SITE_ADMIN:
            raise Forbidden(_("只有系统管理员可以创建顶级组织。"))
        if kind != "committee":
            raise ServiceError(_("顶级组织必须是党委。"), "bad_kind")
    else:
        if actor is not None:
            require_manage(actor, parent)
        if kind not in ORG_CHILD_KINDS[parent.kind]:
            raise ServiceError(_("该上级组织下不能设立这种组织。"), "bad_kind")
    org = Organisation(name=name, kind=kind, sector=sector, parent=parent,
                       county_level_or_above=county_level_or_above and kind == "committee")
    db.session.add(org)
    db.session.flush()
    org.path = (parent.path if parent else "/") + f"{org.id}/"
    audit.record(actor, "org.create", org, after=audit.snapshot(org, ["name", "kind", "sector", "parent_id"]))
    if commit:
        db.session.commit()
    return org


def managed_org_choices(user: User) -> list[tuple[int, str]]:
    """(id, indented name) of the organisations ``user`` manages, in tree order, for select fields."""
    return [(o.id, ("· " * o.depth) + o.name) for o in managed_orgs(user)]


def managed_org(actor: User, org_id: int | None) -> Organisation:
    """The organisation ``org_id`` if ``actor`` manages it; NotFound otherwise (ids out of reach are not
    confirmed)."""
    org = db.session.get(Organisation, org_id) if org_id else None
    if org is None or not can_manage(actor, org):
        raise NotFound(_("组织不存在。"))
    return org
