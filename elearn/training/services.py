"""Offline/off-job training records and video group training sessions, entered by org admins.

Both credit each attendee through the ledger (one entry per attendee per record/session; the ledger's unique
constraint makes re-marking harmless). An admin may only record attendees within their own subtree.
"""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import delete, false, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from elearn import clock
from elearn.access import Role
from elearn.audit import services as audit
from elearn.branch import officers
from elearn.courses.models import Course, Lesson
from elearn.errors import Conflict, Forbidden, NotFound, ServiceError
from elearn.extensions import db, existing, rowcount
from elearn.i18n import join_list
from elearn.ledger import services as ledger
from elearn.media.models import MediaAsset
from elearn.notify import tasks as notify_tasks
from elearn.orgs import members as users
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.policy import CONTENT_CATEGORIES, ORGANISER_LEVELS, POLICY
from elearn.training.models import GroupAttendance, GroupSession, OfflineTraining
from elearn.xapi import services as xapi


def _check_attendees(actor: User, attendees: list[User], within: Organisation | None = None) -> None:
    if not attendees:
        raise ServiceError(_("请至少选择一名参训党员。"), "no_attendees")
    for user in attendees:
        outside = within is not None and not user.organisation.is_within(within)
        # A branch's secretary marks the members of their branch (the group session's organisation).
        runs = within is not None and officers.may_manage_branch(actor, within)
        if not (runs or orgs.can_manage(actor, user.organisation)) or outside:
            raise Forbidden(_("%(n)s 不在您管理的组织内。", n=user.name))


def users_by_username(actor: User, usernames: list[str]) -> list[User]:
    """Resolve usernames the actor may manage; unknown or out-of-reach names are an error naming them."""
    found, missing = [], []
    for name in dict.fromkeys(n.strip() for n in usernames if n and n.strip()):
        user = users.by_username(name)
        if user is None or not orgs.can_manage(actor, user.organisation):
            missing.append(name)
        else:
            found.append(user)
    if missing:
        raise ServiceError(_("找不到或无权管理这些用户：%(n)s", n=join_list(missing)), "unknown_users")
    return found


def record_training(actor: User, *, organisation: Organisation, title: str, organiser: str, organiser_level: str,
                    offjob: bool, category: str, innovative_theory: bool, starts_on: date, ends_on: date,
                    days: float | None = None, hours: float | None = None, attendees: list[User],
                    note: str = "", within: Organisation | None = None) -> OfflineTraining:
    """Record a training and credit every attendee (1 day = POLICY.hours_per_day 学时). ``within``: the
    organisation and attendees must also lie in this subtree (an API token limited to it)."""
    orgs.require_manage(actor, organisation)
    if within is not None and not organisation.is_within(within):
        raise Forbidden(_("您无权管理该组织。"))
    if not (title or "").strip() or not (organiser or "").strip():
        raise ServiceError(_("请填写培训名称和主办单位。"), "title_required")
    if organiser_level not in ORGANISER_LEVELS:
        raise ServiceError(_("未知的主办层级。"), "bad_level")
    if category not in CONTENT_CATEGORIES:
        raise ServiceError(_("未知的教育类别。"), "bad_category")
    if ends_on < starts_on:
        raise ServiceError(_("结束日期不能早于开始日期。"), "bad_dates")
    if ends_on > clock.site_today():
        raise ServiceError(_("不能记录尚未结束的培训。"), "bad_dates")
    if days is not None and hours is None:
        total = round(days * POLICY.hours_per_day, 2)
    elif hours is not None and days is None:
        total = round(hours, 2)
    else:
        raise ServiceError(_("请填写天数或学时（二选一）。"), "days_or_hours")
    if not 0 < total <= POLICY.offline_max_hours:
        raise ServiceError(_("学时须大于 0 且不超过 %(m)d。", m=POLICY.offline_max_hours), "bad_hours")
    if days is not None and days > (ends_on - starts_on).days + 1:
        raise ServiceError(_("天数不能超过培训日期跨度。"), "bad_days")
    _check_attendees(actor, attendees, within)
    training = OfflineTraining(
        title=title.strip(), organisation_id=organisation.id, organiser=organiser.strip(),
        organiser_level=organiser_level, offjob=offjob, category=category, innovative_theory=innovative_theory,
        starts_on=starts_on, ends_on=ends_on, days=days, hours=total, note=(note or "").strip(),
        recorded_by_id=actor.id)
    db.session.add(training)
    db.session.flush()
    for user in attendees:
        _credit_training(actor, training, user)
    audit.record(actor, "training.record", training, after={
        "title": training.title, "hours": total, "attendees": [u.id for u in attendees]})
    db.session.commit()
    return training


def _credit_training(actor: User, training: OfflineTraining, user: User) -> bool:
    return ledger.credit(user, kind="offline", source_kind="offline_training", source_id=training.id,
                         hours=training.hours, title=training.title, category=training.category,
                         innovative_theory=training.innovative_theory, offjob=training.offjob,
                         county_level=training.organiser_level == "county_above", credited_on=training.ends_on,
                         recorded_by=actor, note=training.organiser)


def add_training_attendees(actor: User, training: OfflineTraining, attendees: list[User]) -> int:
    """Credit more attendees of a recorded training; already credited ones are skipped. Returns the count added."""
    orgs.require_manage(actor, training.organisation)
    _check_attendees(actor, attendees)
    added = sum(_credit_training(actor, training, u) for u in attendees)
    audit.record(actor, "training.attendees", training, after={"attendees": [u.id for u in attendees]})
    db.session.commit()
    return added


def get_training(actor: User, training_id: int) -> OfflineTraining:
    training = db.session.get(OfflineTraining, training_id)
    if training is None or not orgs.can_manage(actor, training.organisation):
        raise NotFound(_("培训记录不存在。"))
    return training


def trainings_stmt(actor: User, within: Organisation | None = None):
    """A select of the training records of organisations ``actor`` manages (in ``within``'s subtree when
    given), newest first."""
    stmt = (select(OfflineTraining).join(Organisation, Organisation.id == OfflineTraining.organisation_id)
            .order_by(OfflineTraining.ends_on.desc(), OfflineTraining.id.desc()))
    root = orgs.admin_root(actor)  # None: a site admin (everything), or someone who manages nothing
    if root is None and actor.role != Role.SITE_ADMIN:
        return stmt.where(false())
    for subtree in (root, within):
        if subtree is not None:
            stmt = stmt.where(Organisation.path.startswith(subtree.path))
    return stmt


def trainings_for(actor: User, limit: int = 100) -> list[OfflineTraining]:
    return list(db.session.execute(trainings_stmt(actor).limit(limit)).scalars())


# ---------------------------------------------------------------- video group training

def schedulable_lessons(limit: int = 300) -> list[Lesson]:
    """Lessons of approved courses with playable media."""
    return list(db.session.execute(
        select(Lesson).join(Course, Course.id == Lesson.course_id).join(MediaAsset, MediaAsset.id == Lesson.asset_id)
        .where(Course.status == "approved", MediaAsset.status == "ready")
        .order_by(Course.title, Lesson.position).limit(limit)).scalars())


def schedule_group_session(actor: User, *, organisation: Organisation, lesson: Lesson, scheduled_at: datetime,
                           location: str = "") -> GroupSession:
    officers.require_manage_branch(actor, organisation)
    if lesson.course.status != "approved" or not lesson.duration_s:
        raise ServiceError(_("只能安排已审核且视频可播放的课程。"), "bad_lesson")
    session = GroupSession(organisation_id=organisation.id, lesson_id=lesson.id, scheduled_at=scheduled_at,
                           location=(location or "").strip()[:200], created_by_id=actor.id)
    db.session.add(session)
    db.session.flush()
    audit.record(actor, "group.schedule", session, after={"lesson_id": lesson.id, "organisation_id": organisation.id,
                                                          "scheduled_at": scheduled_at.isoformat()})
    db.session.commit()
    notify_tasks.fan_out.enqueue("group_session", session.id)  # its members, told once each, in batches
    return session


def cancel_group_session(actor: User, session: GroupSession) -> None:
    """Cancel a scheduled group session that nobody has been marked present at (then it credited nobody);
    once attendance is taken it stays, and a wrong credit is corrected on the member's page."""
    if not officers.may_manage_branch(actor, session.organisation):
        raise NotFound(_("集中培训不存在。"))
    taken = _("已有签到记录，不能取消；如签到有误，请在党员页面更正学时。")
    if session.attendance_taken_at is not None or session.attendees:
        raise Conflict(taken, "attendance_taken")
    audit.record(actor, "group.cancel", session, before={
        "lesson_id": session.lesson_id, "organisation_id": session.organisation_id,
        "scheduled_at": session.scheduled_at.isoformat(), "location": session.location})
    # Deleted only if still without attendance, in one statement: attendance taken meanwhile wins (it claims
    # the session first, see mark_attendance).
    gone = rowcount(db.session.execute(delete(GroupSession).where(
        GroupSession.id == session.id, GroupSession.attendance_taken_at.is_(None),
        ~select(GroupAttendance.id).where(GroupAttendance.session_id == session.id).exists())
        .execution_options(synchronize_session=False)))
    if gone != 1:
        db.session.rollback()
        raise Conflict(taken, "attendance_taken")
    db.session.commit()
    db.session.expunge(session)


def get_group_session(actor: User, session_id: int) -> GroupSession:
    session = db.session.get(GroupSession, session_id)
    if session is None or not officers.may_manage_branch(actor, session.organisation):
        raise NotFound(_("集中培训不存在。"))
    return session


def group_sessions_for(actor: User, limit: int = 100) -> list[GroupSession]:
    ids = [o.id for o in orgs.managed_orgs(actor)]
    if not ids:
        return []
    return list(db.session.execute(select(GroupSession).where(GroupSession.organisation_id.in_(ids))
                                   .order_by(GroupSession.scheduled_at.desc()).limit(limit)).scalars())


def group_candidates(session: GroupSession, limit: int = 500) -> list[User]:
    """Active members of the session's organisation subtree, for the attendance list."""
    found = db.session.execute(
        select(User).join(Organisation, Organisation.id == User.organisation_id)
        .where(Organisation.path.startswith(session.organisation.path), User.active.is_(True))
        .options(selectinload(User.organisation)).order_by(User.username).limit(limit)).scalars()
    return sorted(found, key=lambda u: u.name)  # names are encrypted: sorted here, not by SQL


def mark_attendance(actor: User, session: GroupSession, attendees: list[User],
                    now: datetime | None = None) -> int:
    """Mark members present and credit each the lesson's duration in 学时. Returns how many were newly marked."""
    now = now or clock.now_utc()
    if not officers.may_manage_branch(actor, session.organisation):
        raise NotFound(_("集中培训不存在。"))
    if now < session.scheduled_at:
        raise ServiceError(_("培训尚未开始，不能签到。"), "not_started")
    _check_attendees(actor, attendees, within=session.organisation)
    _claim(session, now)
    lesson = existing(Lesson, session.lesson_id)
    already = set(db.session.execute(select(GroupAttendance.user_id).where(
        GroupAttendance.session_id == session.id)).scalars())
    added = 0
    for user in attendees:
        if user.id in already:
            continue
        _attend(session, lesson, user, marked_by=actor, now=now)
        added += 1
    session.attendance_taken_at = now
    audit.record(actor, "group.attendance", session, after={"attendees": [u.id for u in attendees]})
    db.session.commit()
    return added


def _claim(session: GroupSession, now: datetime) -> None:
    # Claim the session before marking anyone (a cancellation racing with this finds attendance taken, or we find
    # it gone); the row lock also makes a second check-in of the same member wait for the first.
    claimed = rowcount(db.session.execute(update(GroupSession).where(GroupSession.id == session.id).values(
        attendance_taken_at=func.coalesce(GroupSession.attendance_taken_at, now))
        .execution_options(synchronize_session=False)))
    if claimed != 1:
        db.session.rollback()
        raise NotFound(_("集中培训不存在。"))


def _attend(session: GroupSession, lesson: Lesson, user: User, *, marked_by: User, now: datetime) -> GroupAttendance:
    # One way to be present, whoever marks it: the attendance row, the ledger's credit and the xAPI statement.
    course = lesson.course
    row = GroupAttendance(session_id=session.id, user_id=user.id, marked_by_id=marked_by.id, marked_at=now)
    db.session.add(row)
    ledger.credit(user, kind="group", source_kind="group_session", source_id=session.id,
                  hours=ledger.hours_for_seconds(lesson.duration_s or 0.0),
                  title=f"{course.title} · {lesson.title}", category=course.category,
                  innovative_theory=course.innovative_theory, course_id=course.id,
                  credited_on=clock.site_date(session.scheduled_at), recorded_by=marked_by)
    xapi.attended(user, session, lesson, now)
    return row


def group_attendance_of(session: GroupSession, user: User) -> GroupAttendance | None:
    return db.session.execute(select(GroupAttendance).where(
        GroupAttendance.session_id == session.id, GroupAttendance.user_id == user.id)).scalar_one_or_none()


def check_in_attendee(session: GroupSession, user: User, *, now: datetime,
                      evidence: dict[str, str]) -> tuple[GroupAttendance, bool]:
    """Mark ``user`` present at ``session`` by their own check-in (elearn.branch.checkin has decided the window
    and the audience), credited exactly as when an admin ticks them. Returns the attendance and whether it is
    new; a member already marked (by an admin or a check-in racing with this one) keeps the first row."""
    found = group_attendance_of(session, user)
    if found is not None:
        return found, False
    _claim(session, now)
    found = group_attendance_of(session, user)  # the claim waited for any racing check-in to commit
    if found is not None:
        db.session.rollback()
        return found, False
    row = _attend(session, existing(Lesson, session.lesson_id), user, marked_by=user, now=now)
    audit.record(user, "group.checkin", session, after={"user_id": user.id, **evidence})
    try:
        db.session.commit()
    except IntegrityError:  # the same member's other device won between the read and the write
        db.session.rollback()
        won = group_attendance_of(session, user)
        if won is None:
            raise
        return won, False
    return row, True
