"""The fan-outs: for an event that reaches many members (a required series published, its due date near,
members behind pace this week, an announcement, a group session), the message and its audience, rebuilt by the
job from the event's id so that a retried or resumed job tells exactly the members not told yet.
:func:`message_for` returns None when the event is gone (a series unpublished meanwhile: nobody more is told)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from elearn import clock
from elearn.analytics.queries import Scope, judged
from elearn.courses.models import Course, Lesson, Series, SeriesCourse
from elearn.extensions import db
from elearn.ledger.models import MemberCourseProgress
from elearn.media.models import MediaAsset
from elearn.notify import audience
from elearn.notify.audience import Message
from elearn.notify.models import Announcement
from elearn.orgs.models import Organisation, User
from elearn.policy import NOTIFY
from elearn.training.models import GroupSession


def _series(series_id: str) -> Series | None:
    series = db.session.get(Series, int(series_id))
    return series if series is not None and series.published and series.required else None


def series_required(series_id: str) -> Message | None:
    series = _series(series_id)
    if series is None:
        return None
    due = _("，截止日期 %(d)s", d=series.due_on.isoformat()) if series.due_on else ""
    return Message(kind="series_required", key=f"series.required:{series.id}",
                   title=_("必修专题：%(t)s", t=series.title)[:200],
                   body=_("专题「%(t)s」已发布给您，请按时完成学习%(due)s。", t=series.title, due=due),
                   link=f"/#series-{series.id}", audience=audience.series_members(series))


def _completed_series(series: Series):
    """A condition on ``User``: every course of ``series`` finished (a course credit, or credits for each of its
    playable lessons — the rule of the analytics' series completion)."""
    P = MemberCourseProgress
    playable = (select(func.count(Lesson.id)).join(MediaAsset, MediaAsset.id == Lesson.asset_id)
                .where(Lesson.course_id == P.course_id, MediaAsset.status == "ready").scalar_subquery())
    finished = (select(func.count()).select_from(P)
                .join(SeriesCourse, and_(SeriesCourse.course_id == P.course_id, SeriesCourse.series_id == series.id))
                .where(P.user_id == User.id, (P.whole > 0) | and_(playable > 0, P.lessons >= playable))
                .scalar_subquery())
    size = select(func.count()).select_from(SeriesCourse).where(SeriesCourse.series_id == series.id) \
        .scalar_subquery()
    return finished >= size


def series_due(series_id: str) -> Message | None:
    series = _series(series_id)
    if series is None or series.due_on is None:
        return None
    return Message(kind="series_due", key=f"series.due:{series.id}",
                   title=_("专题即将截止：%(t)s", t=series.title)[:200],
                   body=_("必修专题「%(t)s」将于 %(d)s 截止，您还没有完成。", t=series.title,
                          d=series.due_on.isoformat()),
                   link=f"/#series-{series.id}",
                   audience=audience.series_members(series).where(~_completed_series(series)))


def pace_week(today: date) -> str:
    """The ISO week of ``today`` ("2026-W49"): a member behind pace is reminded once in it."""
    year, week, _day = today.isocalendar()
    return f"{year}-W{week:02d}"


def behind_pace(week: str) -> Message | None:
    """Members behind the pace of :mod:`elearn.ledger.requirements`, judged set-based by the analytics' one
    query (exempt members never are)."""
    if week != pace_week(clock.site_today()):
        return None  # a job left over from an earlier week: that week's reminder is over
    j = judged(Scope.of(None, clock.site_today()))
    ids = select(j.c.user_id).where(j.c.at_risk == 1)
    return Message(kind="behind_pace", key=f"pace:{week}", title=_("学时进度提醒"),
                   body=_("您的学时进度落后于计划进度，请抓紧学习。"), link="/me/",
                   audience=select(User.id).where(User.id.in_(ids)).order_by(User.id))


def announcement(announcement_id: str) -> Message | None:
    from elearn.notify import announcements  # the announcements' audience rule lives with them

    row = db.session.get(Announcement, int(announcement_id))
    if row is None or row.withdrawn_at is not None:
        return None
    return Message(kind="announcement", key=announcements.key(row), title=announcements.notification_title(row.title),
                   body="", link=f"/notifications/announcements/{row.id}", audience=announcements.audience(row))


def group_session(session_id: str) -> Message | None:
    session = db.session.get(GroupSession, int(session_id))
    if session is None or session.scheduled_at < clock.now_utc():
        return None
    org = db.session.get(Organisation, session.organisation_id)
    lesson = db.session.get(Lesson, session.lesson_id)
    if org is None or lesson is None:
        return None
    course = db.session.get(Course, lesson.course_id)
    when = clock.to_site(session.scheduled_at).strftime("%Y-%m-%d %H:%M")
    where = _("，地点：%(l)s", l=session.location) if session.location else ""
    return Message(kind="group_session_scheduled", key=f"group.session:{session.id}",
                   title=_("集中培训安排：%(t)s", t=lesson.title)[:200],
                   body=_("%(o)s 将于 %(w)s 组织视频集中培训「%(c)s · %(t)s」%(where)s。", o=org.name, w=when,
                          c=course.title if course else "", t=lesson.title, where=where),
                   link=None, audience=audience.members_where(audience.in_subtree(org)))


FANOUTS: dict[str, Callable[[str], Message | None]] = {
    "series_required": series_required, "series_due": series_due, "behind_pace": behind_pace,
    "announcement": announcement, "group_session": group_session,
}


def message_for(name: str, source: str) -> Message | None:
    build = FANOUTS.get(name)
    return build(source) if build is not None else None


def due_series_ids(today: date) -> list[int]:
    """Required published series due within ``NOTIFY.due_reminder_days`` from ``today`` (not yet past)."""
    return list(db.session.execute(select(Series.id).where(
        Series.published.is_(True), Series.required.is_(True), Series.due_on >= today,
        Series.due_on <= today + timedelta(days=NOTIFY.due_reminder_days))
        .where((Series.opens_on.is_(None)) | (Series.opens_on <= today)).order_by(Series.id)).scalars())


def opened_series_ids(today: date) -> list[int]:
    """Required published series that opened ``today`` (told again: members who joined the audience since)."""
    return list(db.session.execute(select(Series.id).where(
        Series.published.is_(True), Series.required.is_(True), Series.opens_on == today)).scalars())
