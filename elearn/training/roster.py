"""The lecturer roster (师资库): lecturers with their expertise, organisation and status, searchable.

Org admins keep the roster of their subtree and see it; site admins all. Changes are audited.
"""
from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from elearn.access import Role
from elearn.audit import services as audit
from elearn.errors import Forbidden, NotFound, ServiceError
from elearn.extensions import db
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.policy import CONTENT_CATEGORIES
from elearn.security import fields as pii
from elearn.training.models import LECTURER_STATUSES, Lecturer

FIELDS = ["name", "title", "organisation_id", "fields", "categories", "status", "phone", "bio"]
PAGE_SIZE = 50


def _require_admin(actor: User) -> None:
    if actor.role not in (Role.ORG_ADMIN, Role.SITE_ADMIN) or not actor.active:
        raise Forbidden()


def get(actor: User, lecturer_id: int) -> Lecturer:
    _require_admin(actor)
    lec = db.session.get(Lecturer, lecturer_id)
    if lec is None or not orgs.can_manage(actor, lec.organisation):
        raise NotFound(_("讲师不存在。"))
    return lec


def category_codes(lec: Lecturer) -> list[str]:
    return [c for c in lec.categories.strip(",").split(",") if c]


def _clean(name: str, fields: str, categories: list[str], status: str) -> tuple[str, str, str]:
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("请填写讲师姓名。"), "name_required")
    if status not in LECTURER_STATUSES:
        raise ServiceError(_("未知的状态。"), "bad_status")
    bad = [c for c in categories if c not in CONTENT_CATEGORIES]
    if bad:
        raise ServiceError(_("未知的内容类别。"), "bad_category")
    # Fields as typed, separated by 、，, ; normalised to "、".
    parts = [p.strip() for p in (fields or "").replace("，", "、").replace(",", "、").replace(";", "、").split("、")]
    stored_categories = ("," + ",".join(dict.fromkeys(categories)) + ",") if categories else ""
    return name, "、".join(p for p in parts if p), stored_categories


def save(actor: User, lecturer: Lecturer | None, *, name: str, organisation: Organisation, title: str = "",
         fields: str = "", categories: Sequence[str] = (), status: str = "active", phone: str | None = None,
         bio: str = "") -> Lecturer:
    """Add (``lecturer`` None) or edit a roster entry in an organisation the actor manages."""
    _require_admin(actor)
    orgs.require_manage(actor, organisation)
    if lecturer is not None:
        orgs.require_manage(actor, lecturer.organisation)
    name, fields, cats = _clean(name, fields, list(categories), status)
    before = audit.snapshot(lecturer, FIELDS) if lecturer is not None else None
    if lecturer is None:
        lecturer = Lecturer()
        db.session.add(lecturer)
    lecturer.name, lecturer.title, lecturer.organisation = name, (title or "").strip(), organisation
    lecturer.fields, lecturer.categories, lecturer.status = fields, cats, status
    lecturer.phone, lecturer.bio = (phone or "").strip() or None, (bio or "").strip()
    db.session.flush()
    audit.record(actor, "lecturer.create" if before is None else "lecturer.update", lecturer, before=before,
                 after=audit.snapshot(lecturer, FIELDS))
    db.session.commit()
    return lecturer


def search(actor: User, *, q: str = "", category: str | None = None, status: str | None = None,
           org: Organisation | None = None, page: int = 1) -> tuple[list[Lecturer], int]:
    """Lecturers of the actor's reach (or ``org``'s subtree) matching words in name, title, fields or bio."""
    _require_admin(actor)
    root = org or (actor.organisation if actor.role == Role.ORG_ADMIN else None)
    if root is not None:
        orgs.require_manage(actor, root)
    stmt = select(Lecturer).join(Organisation, Organisation.id == Lecturer.organisation_id)
    if root is not None:
        stmt = stmt.where(Organisation.path.startswith(root.path, autoescape=True))
    for word in (q or "").split()[:5]:
        like = f"%{word}%"
        # The name is encrypted: a word matches it only as the whole name, through its keyed hash.
        stmt = stmt.where(or_(Lecturer.name_hash.in_(pii.lookup_hashes(word)), Lecturer.title.ilike(like),
                              Lecturer.fields.ilike(like), Lecturer.bio.ilike(like), Organisation.name.ilike(like)))
    if category:
        stmt = stmt.where(Lecturer.categories.contains(f",{category},", autoescape=True))
    if status:
        stmt = stmt.where(Lecturer.status == status)
    total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    # In the order they joined the roster: the encrypted names cannot be sorted by SQL.
    rows = db.session.execute(stmt.order_by(Lecturer.id).limit(PAGE_SIZE)
                              .offset((max(page, 1) - 1) * PAGE_SIZE)).scalars().all()
    return list(rows), total
