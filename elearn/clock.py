"""The only source of "now" and "today".

Times are stored naive in UTC (``now_utc``); people live in the site's time zone (config
``BABEL_DEFAULT_TIMEZONE``, from ``ELEARN_TIMEZONE``, default Asia/Shanghai). Pages and forms convert at the
edge: :func:`to_site` for showing a stored time, :func:`from_site_local` for a date-time typed into a form, and
:func:`site_date` / :func:`site_today` for the day something happened as the member sees it (a credit earned
at 07:00 in Beijing is dated that day, not the UTC day before).
"""
from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Shanghai"

@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def site_zone() -> ZoneInfo:
    """The site's time zone: the app's config inside an app context, else ``ELEARN_TIMEZONE``."""
    if has_app_context():
        return _zone(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or DEFAULT_TIMEZONE)
    return _zone(os.environ.get("ELEARN_TIMEZONE") or DEFAULT_TIMEZONE)


def now_utc() -> datetime:
    """Now, naive UTC (how every time is stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_site(dt: datetime) -> datetime:
    """A stored (naive UTC) time as an aware time in the site's zone."""
    return dt.replace(tzinfo=UTC).astimezone(site_zone())


def from_site_local(local: datetime) -> datetime:
    """A naive date-time as people of the site read it (a form's value) → naive UTC for storing."""
    return local.replace(tzinfo=site_zone()).astimezone(UTC).replace(tzinfo=None)


def site_date(dt: datetime) -> date:
    """The site-local day of a stored (naive UTC) time."""
    return to_site(dt).date()


def site_today() -> date:
    """Today in the site's time zone."""
    return site_date(now_utc())


def site_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The naive-UTC instants at which the site-local ``day`` starts and the next one starts."""
    start = from_site_local(datetime(day.year, day.month, day.day))
    return start, from_site_local(datetime(day.year, day.month, day.day) + timedelta(days=1))
