"""The daily digest: a member who chose it (preference ``digest``) gets no e-mail per message but one a day,
from ``NOTIFY.digest_hour`` of the site's day, listing their unread notifications since the last digest (at
most since yesterday began), or since the day began. Nothing new: nothing sent. A :class:`NotificationDigest`
row per member and day makes a rerun send nothing."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from elearn import clock
from elearn.extensions import db
from elearn.notify import kinds, mail
from elearn.notify import services as notify
from elearn.notify.models import Notification, NotificationDigest, NotificationPreference
from elearn.orgs.models import User
from elearn.policy import NOTIFY


def _subscribers(day, batch: int):
    """Ids of active members with the digest on and none sent for ``day``."""
    sent = select(NotificationDigest.user_id).where(NotificationDigest.day == day)
    return list(db.session.execute(
        select(NotificationPreference.user_id)
        .join(User, User.id == NotificationPreference.user_id)
        .where(NotificationPreference.kind == kinds.DIGEST, NotificationPreference.email.is_(True),
               User.active.is_(True), NotificationPreference.user_id.not_in(sent))
        .order_by(NotificationPreference.user_id).limit(batch)).scalars())


def _since(user_id: int, day_start: datetime) -> datetime:
    last = db.session.execute(select(func.max(NotificationDigest.created_at))
                              .where(NotificationDigest.user_id == user_id)).scalar_one()
    # Since the last digest (what came after yesterday's was sent belongs to today's), but never back beyond
    # yesterday: a member who comes back to the digest is not sent the unread of months.
    return max(last, day_start - timedelta(days=1)) if last is not None else day_start


def _text(items: list[Notification], more: int) -> str:
    lines = [f"· {n.title}" + (f"\n  {n.body}" if n.body else "") + (f"\n  {mail.absolute(n.link)}" if n.link else "")
             for n in items]
    if more:
        lines.append(_("……还有 %(n)d 条", n=more))
    lines.append("")
    lines.append(_("查看全部通知：%(u)s", u=mail.absolute("/notifications")))
    return "\n".join(lines)


def send_digests(batch: int | None = None) -> int:
    """Send today's digests that are due (from ``NOTIFY.digest_hour`` on); returns how many were sent."""
    now = clock.now_utc()
    if clock.to_site(now).hour < NOTIFY.digest_hour or not mail.configured():
        return 0
    day = clock.site_date(now)
    day_start, _end = clock.site_day_bounds(day)
    sent = 0
    done: set[int] = set()
    while True:
        ids = [i for i in _subscribers(day, batch or NOTIFY.fanout_batch) if i not in done]
        if not ids:
            return sent
        for user_id in ids:
            done.add(user_id)
            sent += _digest_one(db.session.get(User, user_id), day, day_start, now)


def _digest_one(user: User | None, day, day_start: datetime, now: datetime) -> int:
    if user is None or not user.email:
        return 0
    unread = (select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None),
                                         Notification.created_at >= _since(user.id, day_start),
                                         Notification.created_at <= now)
              .order_by(Notification.id))
    items = list(db.session.execute(unread.limit(NOTIFY.digest_max_items)).scalars())
    if not items:
        return 0  # nothing new: no e-mail (and a later run today may still send one)
    total = db.session.execute(select(func.count()).select_from(unread.subquery())).scalar_one()
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("今日通知摘要（%(n)d 条）", n=total)
        body = _text(items, total - len(items))
    db.session.add(NotificationDigest(user_id=user.id, day=day, notifications=total, created_at=now))
    notify.send_mail(user.email, subject, body)  # commits the digest's record with its outbox row
    return 1
