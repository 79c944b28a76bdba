"""Payloads of the notifications API."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from elearn.http.paging import PageQuery


class NotificationsQuery(PageQuery):
    """Which page of my notifications; ``unread=true`` for the unread ones only."""

    unread: bool = Field(False, description="only the unread notifications")


class NotificationItem(BaseModel):
    id: int
    kind: str = Field(description="what the notification is about, e.g. auth.password")
    title: str
    body: str
    link: str | None = Field(None, description="a path inside the site")
    created_at: datetime = Field(description="UTC")
    read_at: datetime | None = Field(None, description="UTC; null while unread")


class UnreadCount(BaseModel):
    unread: int


class MarkedRead(BaseModel):
    marked: int = Field(description="notifications marked read by this request")
    unread: int = Field(description="unread notifications left")


class Preferences(BaseModel):
    """My e-mail choice per kind of notification (kind code → on), and ``digest`` (one e-mail a day instead)."""

    email: dict[str, bool] = Field(description="kind code → whether it also reaches me by e-mail")
    digest: bool = Field(False, description="one digest e-mail a day instead of one e-mail per notification")


class PreferencesUpdate(BaseModel):
    """The choices to change; kinds not named keep theirs."""

    email: dict[str, bool] = Field(default_factory=dict)
    digest: bool | None = None


class AnnouncementItem(BaseModel):
    id: int
    title: str
    organisation: str
    published_at: datetime = Field(description="UTC")
    read: bool


class AnnouncementList(BaseModel):
    items: list[AnnouncementItem]


class AnnouncementDetail(BaseModel):
    id: int
    title: str
    body_html: str = Field(description="sanitised HTML")
    published_at: datetime = Field(description="UTC")
    edited_at: datetime | None = Field(None, description="UTC; when its title or body was last changed")
