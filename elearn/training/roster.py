"""The lecturer roster (师资库): lecturers with their expertise, organisation and status, searchable.

Org admins keep the roster of their subtree and see it; site admins all. Changes are audited.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from elearn.access import Role
from elearn.audit import services as audit
from elearn.audit.models import AuditEntry
from elearn.branch.meeting_models import Meeting
from elearn.community.ratings import course_rating_summary
from elearn.courses.models import Course
from elearn.errors import Conflict, Forbidden, NotFound, ServiceError
from elearn.extensions import db
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.policy import CONTENT_CATEGORIES
from elearn.security import fields as pii
from elearn.training.models import LECTURER_STATUSES, Lecturer

FIELDS = ["name", "title", "organisation_id", "fields", "categories", "status", "phone", "bio"]
PAGE_SIZE = 50
# Meeting kinds (policy.MEETINGS.kinds) in which a roster lecturer speaks: 党课 and 专题讲座.
LECTURE_KINDS = ("lecture", "special_lecture")


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
    old_status = lecturer.status if lecturer is not None else None
    if lecturer is None:
        lecturer = Lecturer()
        db.session.add(lecturer)
    lecturer.name, lecturer.title, lecturer.organisation = name, (title or "").strip(), organisation
    lecturer.fields, lecturer.categories, lecturer.status = fields, cats, status
    lecturer.phone, lecturer.bio = (phone or "").strip() or None, (bio or "").strip()
    db.session.flush()
    audit.record(actor, "lecturer.create" if before is None else "lecturer.update", lecturer, before=before,
                 after=audit.snapshot(lecturer, FIELDS))
    if old_status is not None and old_status != status:
        # Its own entry: the status history on the entry page reads these, not every edit.
        audit.record(actor, "lecturer.status", lecturer, before={"status": old_status}, after={"status": status})
    db.session.commit()
    return lecturer


# -- the lecturer's account: courses, ratings, lectures given, status history ----------------------------------

def linkable_accounts(actor: User, lecturer: Lecturer) -> list[User]:
    """Active lecturer accounts in the actor's subtree not linked to another roster entry."""
    _require_admin(actor)
    linked = select(Lecturer.user_id).where(Lecturer.user_id.is_not(None), Lecturer.id != lecturer.id)
    stmt = (select(User).join(Organisation, Organisation.id == User.organisation_id)
            .where(User.role == Role.LECTURER, User.active.is_(True), User.id.not_in(linked))
            .order_by(User.username))
    root = orgs.admin_root(actor)
    if root is not None:
        stmt = stmt.where(Organisation.path.startswith(root.path, autoescape=True))
    return list(db.session.execute(stmt.limit(500)).scalars())


def link_account(actor: User, lecturer: Lecturer, user_id: int | None) -> Lecturer:
    """Link the entry to a lecturer account of the actor's subtree (None: unlink); an account is linked to
    one entry at most (also a unique constraint)."""
    orgs.require_manage(actor, lecturer.organisation)
    user = db.session.get(User, user_id) if user_id else None
    if user_id and (user is None or not orgs.can_manage(actor, user.organisation)):
        raise NotFound(_("账号不存在。"))
    if user is not None and (user.role != Role.LECTURER or not user.active):
        raise ServiceError(_("只能关联讲师角色的在用账号。"), "not_lecturer")
    if user is not None and db.session.execute(select(Lecturer.id).where(
            Lecturer.user_id == user.id, Lecturer.id != lecturer.id)).first() is not None:
        raise Conflict(_("该账号已关联到其他讲师。"), "already_linked")
    before = {"user_id": lecturer.user_id}
    lecturer.user_id = user.id if user is not None else None
    audit.record(actor, "lecturer.link", lecturer, before=before, after={"user_id": lecturer.user_id})
    try:
        db.session.commit()
    except IntegrityError:  # linked to another entry meanwhile
        db.session.rollback()
        raise Conflict(_("该账号已关联到其他讲师。"), "already_linked") from None
    return lecturer


def account_record(lecturer: Lecturer) -> dict[str, Any]:
    """What the linked account did: the courses it authored with their ratings, and the 党课/专题讲座 held with
    this entry as their speaker (those count whether or not an account is linked)."""
    user = db.session.get(User, lecturer.user_id) if lecturer.user_id else None
    courses: list[dict[str, Any]] = []
    if user is not None:
        rows = db.session.execute(select(Course).where(Course.lecturer_id == user.id)
                                  .order_by(Course.id)).scalars().all()
        ratings = course_rating_summary([c.id for c in rows])
        courses = [{"id": c.id, "title": c.title, "status": c.status,
                    "rating": ratings.get(c.id, (0.0, 0))[0], "ratings": ratings.get(c.id, (0.0, 0))[1]}
                   for c in rows]
    lectures = db.session.execute(
        select(Meeting).where(Meeting.lecturer_id == lecturer.id, Meeting.kind.in_(LECTURE_KINDS),
                              Meeting.status == "held").order_by(Meeting.starts_at.desc())).scalars().all()
    rated = [c for c in courses if c["ratings"]]
    votes = sum(c["ratings"] for c in rated)
    return {"user": user, "courses": courses,
            "rating": (sum(c["rating"] * c["ratings"] for c in rated) / votes) if votes else None, "votes": votes,
            "lectures": [{"id": m.id, "title": m.title, "kind": m.kind, "starts_at": m.starts_at,
                          "organisation": m.organisation.name} for m in lectures]}


def status_history(lecturer: Lecturer) -> list[dict[str, Any]]:
    """The entry's status over time, oldest first: its first status, then every audited change."""
    rows = db.session.execute(
        select(AuditEntry).where(AuditEntry.object_type == Lecturer.__tablename__,
                                 AuditEntry.object_id == lecturer.id,
                                 AuditEntry.action.in_(("lecturer.create", "lecturer.status")))
        .order_by(AuditEntry.id)).scalars().all()
    actors = {u.id: u for u in db.session.execute(select(User).where(
        User.id.in_({r.actor_id for r in rows if r.actor_id}))).scalars()}
    out = []
    for r in rows:
        actor = actors.get(r.actor_id) if r.actor_id else None
        out.append({"at": r.at, "actor": actor.name if actor else "",
                    "before": (r.before or {}).get("status"), "after": (r.after or {}).get("status")})
    return out


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
