"""Announcements (公告): an org admin publishes one to their subtree, optionally narrowed to sectors and member
categories; each member of the audience gets a notification (a fan-out job, in batches) and opens it on its own
page, which records the reading. Read count = distinct readers / members told."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, delete, false, func, select, update

from elearn import clock
from elearn.access import Role
from elearn.audit import services as audit
from elearn.courses.services import render_markdown
from elearn.errors import Conflict, Forbidden, NotFound, ServiceError
from elearn.extensions import db
from elearn.notify import audience as audiences
from elearn.notify import services as notify_services
from elearn.notify import tasks
from elearn.notify.models import Announcement, AnnouncementRead, Notification
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.policy import MEMBER_CATEGORIES, NOTIFY, SECTORS


def key(row: Announcement) -> str:
    """The ``dedupe_key`` of an announcement's notifications."""
    return f"announcement:{row.id}"


def _codes(raw: str) -> list[str]:
    return [c for c in raw.split(",") if c]


def audience(row: Announcement):
    """Members in the subtree of the announcement's organisation, of its sectors and categories if named."""
    org = db.session.get(Organisation, row.organisation_id)
    if org is None:
        return audiences.members_where(false())
    place = audiences.in_subtree(org)
    sectors = _codes(row.sectors)
    if sectors:
        place = and_(place, Organisation.sector.in_(sectors))
    return audiences.members_where(place, _codes(row.categories))


def require_publisher(actor: User, org: Organisation) -> None:
    if actor.role not in (Role.ORG_ADMIN, Role.SITE_ADMIN) or not orgs.can_manage(actor, org):
        raise Forbidden(_("只有组织管理员可以向本组织发布公告。"))


def _clean(title: str, body: str) -> tuple[str, str]:
    """The title on one line and the Markdown body, refused (ServiceError) when empty or too long."""
    title = " ".join((title or "").split())
    body = (body or "").strip()
    if not title:
        raise ServiceError(_("请填写公告标题。"), "title_required")
    if len(title) > NOTIFY.announcement_title_max:
        raise ServiceError(_("公告标题过长。"), "title_too_long")
    if not body:
        raise ServiceError(_("请填写公告内容。"), "body_required")
    if len(body) > NOTIFY.announcement_body_max:
        raise ServiceError(_("公告内容过长。"), "body_too_long")
    return title, body


def notification_title(title: str) -> str:
    """What a member's notification of an announcement titled ``title`` reads."""
    return _("公告：%(t)s", t=title)[:200]


def publish(actor: User, org: Organisation, *, title: str, body: str, sectors: Sequence[str] = (),
            categories: Sequence[str] = ()) -> Announcement:
    """Publish an announcement to ``org``'s subtree (audited ``announcement.publish``); the body is Markdown,
    kept as sanitised HTML. The notifications go out by a job in batches."""
    require_publisher(actor, org)
    title, body = _clean(title, body)
    if any(s not in SECTORS for s in sectors):
        raise ServiceError(_("未知的领域。"), "bad_sector")
    if any(c not in MEMBER_CATEGORIES for c in categories):
        raise ServiceError(_("未知的党员类别。"), "bad_category")
    row = Announcement(organisation_id=org.id, title=title, body=str(render_markdown(body)), body_source=body,
                       sectors=",".join(dict.fromkeys(sectors)), categories=",".join(dict.fromkeys(categories)),
                       published_at=clock.now_utc(), created_by_id=actor.id)
    db.session.add(row)
    db.session.flush()  # the entry names the announcement by its id
    audit.record(actor, "announcement.publish", row,
                 after=audit.snapshot(row, ["organisation_id", "title", "sectors", "categories"]))
    db.session.commit()
    tasks.fan_out.enqueue("announcement", row.id)
    return row


def managed(actor: User, announcement_id: int) -> Announcement:
    """An announcement ``actor`` may edit or withdraw: their own (while they are an admin), or one of an
    organisation they manage. Forbidden for other roles; NotFound for the rest (not confirmed to exist)."""
    if actor.role not in (Role.ORG_ADMIN, Role.SITE_ADMIN) or not actor.active:
        raise Forbidden(_("只有组织管理员可以修改公告。"))
    row = db.session.get(Announcement, announcement_id) if 0 < announcement_id < 2**31 else None
    org = db.session.get(Organisation, row.organisation_id) if row is not None else None
    if row is None or org is None or not (row.created_by_id == actor.id or orgs.can_manage(actor, org)):
        raise NotFound(_("没有这条公告。"), "not_found")
    return row


def _require_current(row: Announcement) -> None:
    if row.withdrawn_at is not None:
        raise Conflict(_("这条公告已撤回。"), "withdrawn")


def edit(actor: User, announcement_id: int, *, title: str, body: str) -> Announcement:
    """Change the title and body of an announcement (audited ``announcement.edit``, in the same transaction);
    the members' notifications take the new title and its page shows it as edited."""
    row = managed(actor, announcement_id)
    _require_current(row)
    title, body = _clean(title, body)
    before = audit.snapshot(row, ["title", "body_source"])
    row.title, row.body_source, row.body = title, body, str(render_markdown(body))
    row.edited_at = clock.now_utc()
    db.session.execute(update(Notification).where(Notification.dedupe_key == key(row))
                       .values(title=notification_title(title)).execution_options(synchronize_session=False))
    audit.record(actor, "announcement.edit", row, before=before,
                 after=audit.snapshot(row, ["title", "body_source", "edited_at"]))
    db.session.commit()
    return row


def withdraw(actor: User, announcement_id: int) -> Announcement:
    """Withdraw an announcement (撤回; audited ``announcement.withdraw``, in the same transaction): its
    notifications are removed, so it leaves the members' lists and unread counts, the fan-out stops and its
    e-mails not yet sent are withdrawn; its read count stays on the admins' list, as withdrawn."""
    row = managed(actor, announcement_id)
    _require_current(row)
    told = select(func.count()).select_from(Notification).where(Notification.dedupe_key == key(row))
    row.told_at_withdrawal = int(db.session.execute(told).scalar_one())
    row.withdrawn_at = clock.now_utc()
    db.session.execute(delete(Notification).where(Notification.dedupe_key == key(row))
                       .execution_options(synchronize_session=False))
    notify_services.withdraw_mail(key(row))
    audit.record(actor, "announcement.withdraw", row,
                 after=audit.snapshot(row, ["title", "withdrawn_at", "told_at_withdrawal"]))
    db.session.commit()
    return row


@dataclass(frozen=True)
class AnnouncementStats:
    announcement: Announcement
    organisation: str
    audience: int  # members told
    readers: int  # distinct members who opened it

    @property
    def read_share(self) -> float:
        return self.readers / self.audience if self.audience else 0.0


def published_by_me(actor: User, limit: int = 100) -> list[AnnouncementStats]:
    """Announcements of the organisations ``actor`` manages, newest first, with their read counts."""
    if actor.role not in (Role.ORG_ADMIN, Role.SITE_ADMIN):
        raise Forbidden(_("只有组织管理员可以查看公告的阅读情况。"))
    stmt = (select(Announcement, Organisation.name).join(Organisation, Organisation.id == Announcement.organisation_id)
            .order_by(Announcement.published_at.desc(), Announcement.id.desc()).limit(limit))
    if actor.role == Role.ORG_ADMIN:
        stmt = stmt.where(audiences.in_subtree(actor.organisation))
    rows = db.session.execute(stmt).all()
    keys = {key(a): a.id for a, _name in rows}
    told = dict(db.session.execute(select(Notification.dedupe_key, func.count()).where(
        Notification.dedupe_key.in_(list(keys))).group_by(Notification.dedupe_key)).tuples().all()) if keys else {}
    readers = func.count(AnnouncementRead.user_id.distinct())
    read = dict(db.session.execute(select(AnnouncementRead.announcement_id, readers)
                                   .where(AnnouncementRead.announcement_id.in_(list(keys.values())))
                                   .group_by(AnnouncementRead.announcement_id)).tuples().all()) if keys else {}
    return [AnnouncementStats(a, name, int(told.get(key(a), a.told_at_withdrawal or 0)), int(read.get(a.id, 0)))
            for a, name in rows]


def _in_audience(user: User, row: Announcement) -> bool:
    return db.session.execute(audience(row).where(User.id == user.id).limit(1)).first() is not None


def for_member(user: User, announcement_id: int) -> Announcement:
    """An announcement ``user`` is in the audience of (told or not yet); NotFound otherwise."""
    row = db.session.get(Announcement, announcement_id) if 0 < announcement_id < 2**31 else None
    if row is None or row.withdrawn_at is not None or not (_told(user, row) or _in_audience(user, row)):
        raise NotFound(_("没有这条公告。"), "not_found")
    return row


def _told(user: User, row: Announcement) -> bool:
    return db.session.execute(select(Notification.id).where(
        Notification.user_id == user.id, Notification.dedupe_key == key(row))).first() is not None


def open_announcement(user: User, announcement_id: int) -> Announcement:
    """``user`` opens an announcement: recorded as read once, and its notification marked read."""
    row = for_member(user, announcement_id)
    now = clock.now_utc()
    if db.session.execute(select(AnnouncementRead.id).where(AnnouncementRead.announcement_id == row.id,
                                                            AnnouncementRead.user_id == user.id)).first() is None:
        db.session.add(AnnouncementRead(announcement_id=row.id, user_id=user.id, read_at=now))
    db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.dedupe_key == key(row), Notification.read_at.is_(None))
        .values(read_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    return row


@dataclass(frozen=True)
class MemberAnnouncement:
    id: int
    title: str
    organisation: str
    published_at: datetime
    read: bool


def mine(user: User, limit: int = 50) -> list[MemberAnnouncement]:
    """The announcements ``user`` was told of, newest first, with whether they opened each."""
    notes = db.session.execute(select(Notification.dedupe_key).where(
        Notification.user_id == user.id, Notification.kind == "announcement",
        Notification.dedupe_key.is_not(None)).order_by(Notification.id.desc()).limit(limit)).scalars().all()
    ids = [int(k.split(":", 1)[1]) for k in notes if k and k.startswith("announcement:")]
    if not ids:
        return []
    read = set(db.session.execute(select(AnnouncementRead.announcement_id).where(
        AnnouncementRead.user_id == user.id, AnnouncementRead.announcement_id.in_(ids))).scalars())
    rows = db.session.execute(select(Announcement, Organisation.name)
                              .join(Organisation, Organisation.id == Announcement.organisation_id)
                              .where(Announcement.id.in_(ids), Announcement.withdrawn_at.is_(None))
                              .order_by(Announcement.published_at.desc(), Announcement.id.desc())).all()
    return [MemberAnnouncement(a.id, a.title, name, a.published_at, a.id in read) for a, name in rows]
