"""Notifications in the JSON API (``/api/v1/notifications``): my notifications a page at a time, the unread
count (what the badge shows), marking one or all read, my e-mail preferences; announcements sent to me."""
from __future__ import annotations

from flask_login import current_user

from elearn.http.api import api_blueprint, operation
from elearn.http.paging import envelope, page_model, paginate
from elearn.notify import announcements, kinds
from elearn.notify import services as notify
from elearn.notify.models import Notification
from elearn.notify.schemas import (
    AnnouncementDetail,
    AnnouncementItem,
    AnnouncementList,
    MarkedRead,
    NotificationItem,
    NotificationsQuery,
    Preferences,
    PreferencesUpdate,
    UnreadCount,
)

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


def _preferences() -> Preferences:
    prefs = notify.my_preferences(current_user)
    digest = prefs.pop(kinds.DIGEST)
    return Preferences(email=prefs, digest=digest)


@operation(bp, "/notifications/preferences", operation_id="getNotificationPreferences", response=Preferences,
           summary="Which kinds of notification reach me by e-mail")
def get_preferences() -> Preferences:
    """Every kind with my choice (or its default), and the daily digest."""
    return _preferences()


@operation(bp, "/notifications/preferences", method="PUT", operation_id="setNotificationPreferences",
           body=PreferencesUpdate, response=Preferences, summary="Choose which kinds reach me by e-mail")
def set_preferences(body: PreferencesUpdate) -> Preferences:
    """An unknown kind is a 400 ``bad_kind`` and changes nothing."""
    choices = dict(body.email)
    if body.digest is not None:
        choices[kinds.DIGEST] = body.digest
    notify.set_preferences(current_user, choices)
    return _preferences()


@operation(bp, "/announcements", operation_id="listMyAnnouncements", response=AnnouncementList,
           summary="The announcements sent to me, newest first")
def list_announcements() -> AnnouncementList:
    """With whether I opened each."""
    return AnnouncementList(items=[AnnouncementItem(id=a.id, title=a.title, organisation=a.organisation,
                                                    published_at=a.published_at, read=a.read)
                                   for a in announcements.mine(current_user)])


@operation(bp, "/announcements/<int:announcement_id>", operation_id="getAnnouncement", response=AnnouncementDetail,
           errors={404: "no such announcement to me"}, summary="One announcement to me (marks it read)")
def get_announcement(announcement_id: int) -> AnnouncementDetail:
    """Opening it through the API counts as reading it, as on its page."""
    row = announcements.open_announcement(current_user, announcement_id)
    return AnnouncementDetail(id=row.id, title=row.title, body_html=row.body, published_at=row.published_at,
                              edited_at=row.edited_at)
