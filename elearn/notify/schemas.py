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
