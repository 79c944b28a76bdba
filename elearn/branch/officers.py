"""Who may run a branch: its secretary and deputy (current appointments), an org admin over it, a site admin.

``may_manage_branch`` is the one check every branch page and service uses; an org admin's wider rights stay
in ``elearn.orgs.services.can_manage``. Appointments are made by an org admin over the branch, audited.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from elearn import clock
from elearn.audit import services as audit
from elearn.branch.models import MANAGING_POSTS, POSTS, BranchOfficer
from elearn.errors import Forbidden, NotFound, ServiceError
from elearn.extensions import db
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User

POST_LABELS = {"secretary": _l("书记"), "deputy": _l("副书记"), "committee": _l("委员")}


def _current(stmt, on: date | None = None):
    day = on or clock.site_today()
    return stmt.where(BranchOfficer.started_on <= day,
                      or_(BranchOfficer.ended_on.is_(None), BranchOfficer.ended_on > day))


def current_officers(org: Organisation) -> list[BranchOfficer]:
    """The organisation's officers today, secretary first."""
    stmt = _current(select(BranchOfficer).where(BranchOfficer.organisation_id == org.id))
    rows = list(db.session.execute(stmt).scalars())
    return sorted(rows, key=lambda o: (POSTS.index(o.post), o.started_on))


def officer_posts(user: User, on: date | None = None) -> list[BranchOfficer]:
    """The posts ``user`` holds today, in any organisation."""
    if not getattr(user, "is_authenticated", False) or not user.active:
        return []
    stmt = _current(select(BranchOfficer).where(BranchOfficer.user_id == user.id), on)
    return list(db.session.execute(stmt).scalars())


def secretary_orgs(user: User) -> list[Organisation]:
    """The organisations ``user`` runs as secretary or deputy today (not their subtrees)."""
    seen: dict[int, Organisation] = {}
    for post in officer_posts(user):
        if post.post in MANAGING_POSTS:
            seen[post.organisation_id] = post.organisation
    return sorted(seen.values(), key=lambda o: o.path)


def may_manage_branch(user: User, org: Organisation) -> bool:
    """Secretary or deputy of ``org`` today, or an admin over it (elearn.orgs.services.can_manage)."""
    if not getattr(user, "is_authenticated", False) or not user.active:
        return False
    if orgs.can_manage(user, org):
        return True
    return any(o.id == org.id for o in secretary_orgs(user))


def require_manage_branch(user: User, org: Organisation) -> None:
    if not may_manage_branch(user, org):
        raise Forbidden(_("您不是该支部的书记或副书记，也不是其上级组织的管理员。"))


def managed_branches(user: User) -> list[Organisation]:
    """Every organisation whose life ``user`` may run: the ones they are secretary/deputy of, and for an
    admin every organisation they manage."""
    found = {o.id: o for o in orgs.managed_orgs(user)}
    for org in secretary_orgs(user):
        found.setdefault(org.id, org)
    return sorted(found.values(), key=lambda o: o.path)


def appoint(actor: User, org: Organisation, member: User, post: str, *, started_on: date | None = None,
            commit: bool = True) -> BranchOfficer:
    """Appoint ``member`` (who belongs to ``org``) to ``post``; a new secretary ends the previous one's term."""
    orgs.require_manage(actor, org)
    if post not in POSTS:
        raise ServiceError(_("未知的职务。"), "bad_post")
    if member.organisation_id != org.id or not member.active:
        raise ServiceError(_("只能任命本组织的在册党员。"), "not_member")
    day = started_on or clock.site_today()
    for current in current_officers(org):
        if current.user_id == member.id or (post == "secretary" and current.post == "secretary"):
            current.ended_on = day
            audit.record(actor, "branch.officer_ended", current, after={"ended_on": day.isoformat()})
    officer = BranchOfficer(organisation_id=org.id, user_id=member.id, post=post, started_on=day,
                            appointed_by_id=actor.id)
    db.session.add(officer)
    db.session.flush()
    audit.record(actor, "branch.officer_appointed", officer,
                 after={"organisation_id": org.id, "user_id": member.id, "post": post,
                        "started_on": day.isoformat()})
    if commit:
        db.session.commit()
    return officer


def end_appointment(actor: User, officer_id: int, *, commit: bool = True) -> BranchOfficer:
    officer = db.session.get(BranchOfficer, officer_id)
    if officer is None:
        raise NotFound(_("任职记录不存在。"))
    orgs.require_manage(actor, officer.organisation)
    if officer.ended_on is None or officer.ended_on > clock.site_today():
        officer.ended_on = clock.site_today()
        audit.record(actor, "branch.officer_ended", officer, after={"ended_on": officer.ended_on.isoformat()})
    if commit:
        db.session.commit()
    return officer
