"""Political birthdays (政治生日): the anniversary of the day a member joined the party (``User.party_joined_on``).

On the day the member is notified once (the daily job; a :class:`PoliticalBirthday` row per member and year is the
guard, so a rerun or a restart never sends twice) and finds a page with the oath (入党誓词) and their years in the
party, where renewing the oath (重温入党誓词) is recorded. A branch sees the month's birthdays of its members.
Members who joined on 29 February celebrate on 28 February in common years.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import extract, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from elearn import clock
from elearn.audit import services as audit
from elearn.branch.checkin_models import PoliticalBirthday
from elearn.branch.officers import require_manage_branch
from elearn.errors import ServiceError
from elearn.extensions import db, rowcount
from elearn.notify import services as notify
from elearn.orgs.models import Organisation, User


@dataclass(frozen=True)
class Birthday:
    user: User
    joined_on: date
    on: date  # the day it is celebrated in the year asked about
    years: int  # years in the party on that day


def celebrated_on(joined_on: date, year: int) -> date:
    """The political birthday of someone who joined on ``joined_on``, in ``year`` (29 Feb → 28 Feb in common years)."""
    if joined_on.month == 2 and joined_on.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return joined_on.replace(year=year)


def years_in_party(joined_on: date, today: date) -> int:
    """Full years since joining (0 in the first year), counting the political birthday itself as complete."""
    years = today.year - joined_on.year
    if today < celebrated_on(joined_on, today.year):
        years -= 1
    return max(years, 0)


def _anniversary_on(day: date):
    joined = User.party_joined_on
    same_day = (extract("month", joined) == day.month) & (extract("day", joined) == day.day)
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        return or_(same_day, (extract("month", joined) == 2) & (extract("day", joined) == 29))
    return same_day


def birthdays_on(day: date) -> list[User]:
    """Active members whose political birthday is ``day`` (joined in an earlier year)."""
    return list(db.session.execute(select(User).where(
        User.active.is_(True), User.party_joined_on.is_not(None), User.party_joined_on < date(day.year, 1, 1),
        _anniversary_on(day)).order_by(User.id)).scalars())


def notify_todays_birthdays() -> int:
    """Notify each member whose political birthday is today, once a year. Returns how many were notified now."""
    today = clock.site_today()
    sent = 0
    for user in birthdays_on(today):
        if _claim_notice(user, today.year):
            years = years_in_party(user.party_joined_on, today)  # type: ignore[arg-type]
            notify.notify(user, "political_birthday", _("今天是您的政治生日"),
                          _("您已入党 %(n)d 年。重温入党誓词，不忘初心。", n=years), link="/me/political-birthday")
            sent += 1
    return sent


def _claim_notice(user: User, year: int) -> bool:
    """Mark this year's notice of ``user`` as sent (in the session; the notification commits it). False when
    it was sent already (by an earlier run or a run racing with this one)."""
    row = _record(user, year)
    now = clock.now_utc()
    if row is None:
        db.session.add(PoliticalBirthday(user_id=user.id, year=year, notified_at=now))
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            return False
        return True
    return rowcount(db.session.execute(update(PoliticalBirthday).where(
        PoliticalBirthday.id == row.id, PoliticalBirthday.notified_at.is_(None)).values(notified_at=now)
        .execution_options(synchronize_session=False))) == 1


def _record(user: User, year: int) -> PoliticalBirthday | None:
    return db.session.execute(select(PoliticalBirthday).where(
        PoliticalBirthday.user_id == user.id, PoliticalBirthday.year == year)).scalar_one_or_none()


@dataclass(frozen=True)
class MyBirthday:
    joined_on: date | None
    years: int
    next_on: date | None  # this year's political birthday, or next year's once it has passed
    is_today: bool
    renewed_at: object  # datetime of this year's renewal of the oath, or None


def my_birthday(user: User) -> MyBirthday:
    """What the member's page shows."""
    today = clock.site_today()
    joined = user.party_joined_on
    row = _record(user, today.year)
    renewed = row.oath_renewed_at if row is not None else None
    if joined is None:
        return MyBirthday(None, 0, None, False, renewed)
    this_year = celebrated_on(joined, today.year)
    next_on = this_year if this_year >= today else celebrated_on(joined, today.year + 1)
    return MyBirthday(joined, years_in_party(joined, today), next_on,
                      this_year == today and joined.year < today.year, renewed)


def renew_oath(user: User) -> PoliticalBirthday:
    """Record that ``user`` renewed the oath this year (重温入党誓词); a second time keeps the first time."""
    if user.party_joined_on is None:
        raise ServiceError(_("您的入党日期尚未登记，请联系组织管理员。"), "no_joining_date")
    today = clock.site_today()
    row = _record(user, today.year)
    if row is None:
        row = PoliticalBirthday(user_id=user.id, year=today.year)
        db.session.add(row)
    if row.oath_renewed_at is None:
        row.oath_renewed_at = clock.now_utc()
        db.session.flush()
        audit.record(user, "branch.oath_renewed", row, after={"year": today.year})
    try:
        db.session.commit()
    except IntegrityError:  # the same member's second tab: its row stands
        db.session.rollback()
        found = _record(user, today.year)
        if found is None:
            raise
        return found
    return row


def birthdays_in_month(actor: User, org: Organisation, year: int, month: int) -> list[Birthday]:
    """The political birthdays in ``month`` of ``year`` of the active members of ``org`` and its subtree, by day
    (for those who may manage the branch)."""
    require_manage_branch(actor, org)
    if not 1 <= month <= 12 or not 1900 <= year <= 9999:
        raise ServiceError(_("月份无效。"), "bad_month")
    rows = db.session.execute(select(User).join(Organisation, Organisation.id == User.organisation_id).where(
        Organisation.path.startswith(org.path), User.active.is_(True), User.party_joined_on.is_not(None),
        User.party_joined_on < date(year, 1, 1), extract("month", User.party_joined_on) == month)
        .options(selectinload(User.organisation))).scalars()
    found = [Birthday(u, u.party_joined_on, celebrated_on(u.party_joined_on, year),  # type: ignore[arg-type]
                      years_in_party(u.party_joined_on, celebrated_on(u.party_joined_on, year)))  # type: ignore[arg-type]
             for u in rows]
    return sorted(found, key=lambda b: (b.on, b.user.name))
