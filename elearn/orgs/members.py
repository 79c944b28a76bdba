"""Members: creation, profile and category changes, exemption, transfers, who may see whom."""
from __future__ import annotations

import contextlib
import re
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from elearn import clock
from elearn.access import Role
from elearn.audit import services as audit
from elearn.auth import passwords
from elearn.auth import services as auth
from elearn.errors import Forbidden, NotFound, ServiceError
from elearn.extensions import db
from elearn.notify import services as notify
from elearn.orgs import contacts
from elearn.orgs import services as orgs
from elearn.orgs.models import Membership, Organisation, User
from elearn.policy import MEMBER_CATEGORIES, ROLES
from elearn.security import fields as pii

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,80}$")
EDITABLE = ["name", "phone", "email", "role", "category", "exempt", "exempt_reason", "active", "organisation_id",
            "party_joined_on"]


def get(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("用户不存在。"))
    return user


def by_username(username: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.username) == username.strip().lower())).scalar_one_or_none()


def _check_role_grant(actor: User | None, role: str) -> None:
    if role not in ROLES:
        raise ServiceError(_("未知的角色。"), "bad_role")
    if actor is not None and role == Role.SITE_ADMIN and actor.role != Role.SITE_ADMIN:
        raise Forbidden(_("只有系统管理员可以授予系统管理员角色。"))


def _check_fields(category: str, exempt: bool, exempt_reason: str | None) -> None:
    if category not in MEMBER_CATEGORIES:
        raise ServiceError(_("未知的党员类别。"), "bad_category")
    if exempt and not (exempt_reason or "").strip():
        raise ServiceError(_("免予学时要求须注明原因。"), "exempt_reason_required")


def _check_party_joined_on(day: date | None) -> None:
    if day is not None and not date(1921, 7, 1) <= day <= clock.site_today():
        raise ServiceError(_("入党日期无效：不能晚于今天，也不能早于 1921 年 7 月 1 日。"), "bad_party_joined_on")


def create(actor: User | None, *, username: str, name: str, password: str, organisation: Organisation,
           role: str = "member", category: str = "member", exempt: bool = False,
           exempt_reason: str | None = None, phone: str | None = None, email: str | None = None,
           joined_on: date | None = None, party_joined_on: date | None = None, commit: bool = True,
           generated_password: bool = False) -> User:
    """Create a user in ``organisation``. ``actor`` None means the command line (trusted).
    ``generated_password``: ``password`` was drawn at random by the app (hashed lighter, see passwords)."""
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise ServiceError(_("用户名须为 3–80 个字母、数字或 _.- 字符。"), "bad_username")
    if not (name or "").strip():
        raise ServiceError(_("请填写姓名。"), "name_required")
    if by_username(username) is not None:
        raise ServiceError(_("用户名 %(u)s 已存在。", u=username), "username_taken")
    _check_role_grant(actor, role)
    _check_fields(category, exempt, exempt_reason)
    _check_party_joined_on(party_joined_on)
    if actor is not None:
        orgs.require_manage(actor, organisation)
    passwords.check_policy(password, username)
    phone = contacts.phone(phone) if phone and phone.strip() else None
    email = contacts.email(email) if email and email.strip() else None
    password_hash = passwords.hash_password(password, random_secret=generated_password)
    user = User(username=username, name=name.strip(), password_hash=password_hash, role=role, category=category,
                exempt=exempt, exempt_reason=(exempt_reason or None) if exempt else None,
                phone=phone or None, email=email or None, organisation=organisation,
                party_joined_on=party_joined_on)
    user.memberships.append(Membership(organisation=organisation, kind="home", responsible=True,
                                       started_on=joined_on or clock.site_today()))
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", user, after=audit.snapshot(user, ["username", *EDITABLE]))
    if commit:
        db.session.commit()
    return user


def update(actor: User, user: User, **changes) -> User:
    """Change profile, role, category, exemption or active flag of ``user`` within the actor's subtree."""
    orgs.require_manage(actor, user.organisation)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ServiceError(_("不可修改的字段：%(f)s", f=", ".join(sorted(unknown))), "bad_field")
    if "organisation_id" in changes and changes["organisation_id"] != user.organisation_id:
        raise ServiceError(_("调整组织请使用组织关系转接。"), "use_transfer")
    if "role" in changes:
        _check_role_grant(actor, changes["role"])
        if user.id == actor.id and changes["role"] != actor.role:
            raise ServiceError(_("不能修改自己的角色。"), "own_role")
    if user.role == Role.SITE_ADMIN and actor.role != Role.SITE_ADMIN:
        raise Forbidden(_("您无权修改系统管理员。"))
    if "name" in changes and not (changes["name"] or "").strip():
        raise ServiceError(_("请填写姓名。"), "name_required")
    exempt = changes.get("exempt", user.exempt)
    reason = changes.get("exempt_reason", user.exempt_reason)
    _check_fields(changes.get("category", user.category), exempt, reason)
    if "party_joined_on" in changes:
        _check_party_joined_on(changes["party_joined_on"])
    if not exempt:
        changes["exempt_reason"] = None
    for key, check in (("phone", contacts.phone), ("email", contacts.email)):
        if key in changes:
            changes[key] = check(changes[key]) if (changes[key] or "").strip() else None
    if changes.get("active") is False and user.id == actor.id:
        raise ServiceError(_("不能停用自己的账号。"), "own_account")
    before = audit.snapshot(user, EDITABLE)
    deactivating = changes.get("active") is False and user.active
    for key, value in changes.items():
        setattr(user, key, value.strip() if isinstance(value, str) else value)
    audit.record(actor, "user.update", user, before=before, after=audit.snapshot(user, EDITABLE))
    if deactivating:
        auth.end_sessions(actor, user, "deactivated", commit=False)  # signed out everywhere at once
    db.session.commit()
    return user


def transfer(actor: User, user: User, to_org: Organisation, *, on: date | None = None,
             mobile: bool = False, note: str | None = None) -> Membership:
    """Move ``user`` to ``to_org``. Both organisations keep seeing the record through the membership history.

    ``mobile`` (流动党员): the member keeps the home organisation and studies with ``to_org``, which becomes
    responsible. Otherwise the home membership is closed and a new home opened.
    """
    if not is_current_member_of_managed(actor, user):
        # Members who moved out stay visible in the history, but only their current organisation (home, or the
        # inflow organisation of a mobile member) may move them on.
        raise Forbidden(_("您无权转接该党员：该党员目前不在您管理的组织内。"))
    if to_org.id == user.organisation_id and not mobile:
        raise ServiceError(_("该党员已在此组织。"), "same_org")
    on = on or clock.site_today()
    open_ = [m for m in user.memberships if m.ended_on is None]
    if any(m.started_on > on for m in open_):
        raise ServiceError(_("转接日期不能早于当前组织关系的开始日期。"), "transfer_date")
    if mobile:
        for m in open_:
            if m.kind == "inflow":
                m.ended_on = on
            else:
                m.responsible = False
        new = Membership(organisation=to_org, kind="inflow", responsible=True, started_on=on, note=note)
        before = {"organisation_id": user.organisation_id}
    else:
        for m in open_:
            m.ended_on = on
            m.responsible = False
        new = Membership(organisation=to_org, kind="home", responsible=True, started_on=on, note=note)
        before = {"organisation_id": user.organisation_id}
        user.organisation = to_org
    user.memberships.append(new)
    db.session.flush()
    audit.record(actor, "user.transfer", user,
                 before=before,
                 after={"organisation_id": to_org.id, "mobile": mobile, "on": on.isoformat()})
    notify.notify(user, "transfer_recorded", _("组织关系转接已登记"),
                  (_("您已作为流动党员转入 %(o)s 学习（%(d)s 起）。", o=to_org.name, d=on.isoformat()) if mobile
                   else _("您的组织关系已转入 %(o)s（%(d)s 起）。", o=to_org.name, d=on.isoformat())),
                  link="/me/", dedupe_key=f"transfer:{new.id}", commit=False)
    db.session.commit()
    return new


def is_current_member_of_managed(actor: User, user: User) -> bool:
    """``user`` belongs now to an organisation ``actor`` manages: their home one, or one they study with as a
    mobile member (an open inflow membership)."""
    if orgs.can_manage(actor, user.organisation):
        return True
    return any(m.ended_on is None and m.kind == "inflow" and orgs.can_manage(actor, m.organisation)
               for m in user.memberships)


def responsible_org(user: User) -> Organisation:
    """The organisation responsible for the member now: an open inflow one if any, else the home one."""
    for m in user.memberships:
        if m.ended_on is None and m.responsible:
            return m.organisation
    return user.organisation


def visible_members_stmt(actor: User, org: Organisation | None = None, q: str | None = None):
    """A select of users the actor may see: current members of the subtree and anyone with a membership
    (past or present, home or inflow) in it, so both sides of a transfer see the record."""
    if actor.role not in (Role.SITE_ADMIN, Role.ORG_ADMIN):
        raise Forbidden()
    root = org or (actor.organisation if actor.role == Role.ORG_ADMIN else None)
    if root is not None:
        orgs.require_manage(actor, root)
    # Names are encrypted (elearn.security.fields): SQL sorts by the username, which pages stably.
    stmt = select(User).order_by(User.username, User.id)
    if root is not None:
        in_tree = select(Organisation.id).where(Organisation.path.startswith(root.path))
        via_membership = select(Membership.user_id).where(Membership.organisation_id.in_(in_tree))
        stmt = stmt.where(or_(User.organisation_id.in_(in_tree), User.id.in_(via_membership)))
    if q:
        stmt = stmt.where(matching(q))
    return stmt


def matching(q: str):
    """A condition on users matching ``q``: part of the username, or exactly the whole name, phone
    number or e-mail address (these are encrypted, so only their keyed hashes can be compared)."""
    q = q.strip()
    hashes = pii.lookup_hashes(q)
    candidates = [User.username.ilike(f"%{q}%"), User.name_hash.in_(hashes), User.email_hash.in_(hashes)]
    with contextlib.suppress(ServiceError):  # not a phone number: the other fields may still match
        candidates.append(User.phone_hash.in_(pii.lookup_hashes(contacts.phone(q))))
    return or_(*candidates)


def can_view(actor: User, user: User) -> bool:
    if actor.id == user.id or actor.role == Role.SITE_ADMIN:
        return True
    if actor.role != Role.ORG_ADMIN:
        return False
    return any(m.organisation.is_within(actor.organisation) for m in user.memberships) \
        or user.organisation.is_within(actor.organisation)




def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["ELEARN_LOCALES"]:
        raise ServiceError(_("不支持的语言。"), "bad_locale")
    user.locale = locale
    db.session.commit()
