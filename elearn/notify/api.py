"""Notifications in the JSON API (``/api/v1/notifications``): my notifications a page at a time, the unread
count (what the badge shows), marking one or all read."""
from __future__ import annotations

from flask_login import current_user

from elearn.http.api import api_blueprint, operation
from elearn.http.paging import envelope, page_model, paginate
from elearn.notify import services as notify
from elearn.notify.models import Notification
from elearn.notify.schemas import MarkedRead, NotificationItem, NotificationsQuery, UnreadCount

bp = api_blueprint("notify_api", __name__)


def _item(row: Notification) -> NotificationItem:
    return NotificationItem(id=row.id, kind=row.kind, title=row.title, body=row.body, link=row.link,
                            created_at=row.created_at, read_at=row.read_at)


@operation(bp, "/notifications", operation_id="listNotifications", query=NotificationsQuery,
           response=page_model(NotificationItem), invalid_code="bad_query",
           summary="My notifications, newest first")
def list_notifications(query: NotificationsQuery):
    """The notification centre's list, a page at a time."""
    rows, total = paginate(notify.list_stmt(current_user, unread_only=query.unread), query)
    return envelope(NotificationItem, [_item(r) for r in rows], query, total)


@operation(bp, "/notifications/unread-count", operation_id="countUnreadNotifications", response=UnreadCount,
           summary="How many of my notifications are unread")
def unread_count() -> UnreadCount:
    """The number the badge of the top navigation shows."""
    return UnreadCount(unread=notify.unread_count(current_user))


@operation(bp, "/notifications/<int:notification_id>/read", method="POST", operation_id="markNotificationRead",
           response=MarkedRead, errors={404: "no such notification of mine"},
           summary="Mark one of my notifications read")
def mark_read(notification_id: int) -> MarkedRead:
    """Marking a notification read twice changes nothing (``marked`` is 0 the second time)."""
    was_unread = notify.own(current_user, notification_id).read_at is None
    notify.mark_read(current_user, notification_id)
    return MarkedRead(marked=1 if was_unread else 0, unread=notify.unread_count(current_user))


@operation(bp, "/notifications/read-all", method="POST", operation_id="markAllNotificationsRead",
           response=MarkedRead, summary="Mark all my notifications read")
def mark_all_read() -> MarkedRead:
    """Every unread notification of mine becomes read."""
    return MarkedRead(marked=notify.mark_all_read(current_user), unread=0)
