"""Check-in by rotating code (issue 16): a host screen shows a QR code of ``/c/<token>`` and a 6-character short
form that change every ``CHECKIN.step_s`` seconds; a member scans or types it within the target's window.

A code is an HMAC (key derived from the app's SECRET_KEY, purpose ``checkin``) over (kind, target id, time step):
the current and the previous step are accepted, so a photo of the screen is worthless a minute later, and a
code of one meeting never checks into another. The long token carries the target and is verified alone; the
short form is looked up among the codes host screens have shown (:class:`CheckinCode`).

The targets are a small registry (:data:`KINDS`): ``group_session`` (video group training, marked present through
the training service exactly as when an admin ticks the member, so credit flows the same way) and ``meeting``
(a branch meeting, through elearn.branch.meetings' own window, audience and record_checkin). Who may show the
host screen is ``may_manage_branch`` on the target's organisation.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from elearn import clock
from elearn.audit import services as audit
from elearn.branch import meetings
from elearn.branch.checkin_models import CheckinCode
from elearn.branch.meeting_models import Meeting
from elearn.branch.officers import may_manage_branch
from elearn.courses.models import Lesson
from elearn.errors import Conflict, Forbidden, NotFound, ServiceError
from elearn.extensions import db, existing, rowcount
from elearn.orgs.models import Organisation, User
from elearn.policy import CHECKIN
from elearn.training import services as training
from elearn.training.models import GroupAttendance, GroupSession

# The short form's alphabet: no 0/O, no 1/I (32 symbols, 5 bits each).
SHORT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_TOKEN_MAC_BYTES = 10  # 80 bits: never guessed within a minute, short enough for a small QR code


@dataclass(frozen=True)
class TargetKind:
    """What check-in needs of one kind of target: load it, its organisation, title and window, its audience,
    and the attendance: who is in, and recording one member."""

    kind: str
    letter: str  # its mark in a token
    load: Callable[[int], Any | None]
    organisation: Callable[[Any], Organisation]
    title: Callable[[Any], str]
    window: Callable[[Any], tuple[datetime, datetime]]
    in_audience: Callable[[Any, User], bool]
    checked_in_at: Callable[[Any, User], datetime | None]
    record: Callable[[Any, User, datetime, dict[str, str]], tuple[datetime, bool]]
    present: Callable[[Any], list[tuple[str, datetime]]]
    attendance_endpoint: tuple[str, str]  # (endpoint, its id argument): where the host marks absent/excused


@dataclass(frozen=True)
class CheckinResult:
    kind: str
    target_id: int
    title: str
    at: datetime  # when the member was checked in (the first time)
    new: bool


@dataclass(frozen=True)
class ShownCode:
    token: str
    short: str
    step: int
    expires_in: float  # seconds until the next code replaces it on the screen


# -- group sessions -------------------------------------------------------------------------------------------

def _group_window(session: GroupSession) -> tuple[datetime, datetime]:
    lesson_s = float(existing(Lesson, session.lesson_id).duration_s or 0.0)
    return (session.scheduled_at - timedelta(minutes=CHECKIN.opens_before_min),
            session.scheduled_at + timedelta(seconds=lesson_s, minutes=CHECKIN.closes_after_min))


def _group_audience(session: GroupSession, user: User) -> bool:
    return user.active and user.organisation.is_within(session.organisation)


def _group_checked_in_at(session: GroupSession, user: User) -> datetime | None:
    found = training.group_attendance_of(session, user)
    return found.marked_at if found is not None else None


def _group_record(session: GroupSession, user: User, now: datetime, evidence: dict[str, str]) -> tuple[datetime, bool]:
    row, new = training.check_in_attendee(session, user, now=now, evidence=evidence)
    return row.marked_at, new


def _group_present(session: GroupSession) -> list[tuple[str, datetime]]:
    rows = db.session.execute(select(GroupAttendance).where(GroupAttendance.session_id == session.id)
                              .order_by(GroupAttendance.marked_at)).scalars()
    return [(row.user.name, row.marked_at) for row in rows]


def _group_title(session: GroupSession) -> str:
    lesson = existing(Lesson, session.lesson_id)
    return f"{lesson.course.title} · {lesson.title}"


GROUP_SESSION = TargetKind(
    kind="group_session", letter="g", load=lambda target_id: db.session.get(GroupSession, target_id),
    organisation=lambda s: s.organisation, title=_group_title, window=_group_window, in_audience=_group_audience,
    checked_in_at=_group_checked_in_at, record=_group_record, present=_group_present,
    attendance_endpoint=("training.group_session", "session_id"))

# -- branch meetings (elearn.branch.meetings decides the window and the audience of its own) ------------------

def _meeting_checked_in_at(meeting: Meeting, user: User) -> datetime | None:
    row = meetings.attendance_of(meeting).get(user.id)
    return row.marked_at if row is not None and row.status == "present" else None


def _meeting_record(meeting: Meeting, user: User, now: datetime, evidence: dict[str, str]) -> tuple[datetime, bool]:
    # The client's address and device beside the meetings service's own entry (committed with it).
    audit.record(user, "meeting.checkin_evidence", meeting, after={"user_id": user.id, **evidence})
    row = meetings.record_checkin(meeting, user, now)
    return row.marked_at, row.marked_at == now and row.method == "checkin"


def _meeting_present(meeting: Meeting) -> list[tuple[str, datetime]]:
    rows = sorted((r for r in meetings.attendance_of(meeting).values() if r.status == "present"),
                  key=lambda r: r.marked_at)
    return [(row.user.name, row.marked_at) for row in rows]


def _meeting_window(meeting: Meeting) -> tuple[datetime, datetime]:
    return meetings.checkin_window(meeting)


MEETING = TargetKind(
    kind="meeting", letter="m", load=lambda target_id: db.session.get(Meeting, target_id),
    organisation=lambda m: m.organisation, title=lambda m: m.title, window=_meeting_window,
    in_audience=meetings.in_audience, checked_in_at=_meeting_checked_in_at, record=_meeting_record,
    present=_meeting_present, attendance_endpoint=("branch.meeting", "meeting_id"))

KINDS: dict[str, TargetKind] = {GROUP_SESSION.kind: GROUP_SESSION, MEETING.kind: MEETING}


def register(kind: TargetKind) -> None:
    """Add a kind of target (a meeting module registers its own)."""
    KINDS[kind.kind] = kind


def kind_of(name: str) -> TargetKind:
    if name not in KINDS:
        raise NotFound(_("签到对象不存在。"))
    return KINDS[name]


def target(kind: TargetKind, target_id: int) -> Any:
    found = kind.load(target_id)
    if found is None:
        raise NotFound(_("签到对象不存在。"))
    return found


# -- codes ----------------------------------------------------------------------------------------------------

def _key() -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"elearn/checkin-code").derive(
        current_app.config["SECRET_KEY"].encode())


def _seconds(moment: datetime) -> float:
    return moment.replace(tzinfo=UTC).timestamp()  # times are naive UTC (elearn.clock)


def step_at(moment: datetime) -> int:
    return int(_seconds(moment) // CHECKIN.step_s)


def _mac(kind: TargetKind, target_id: int, step: int, purpose: str) -> bytes:
    return hmac.new(_key(), f"{purpose}:{kind.kind}:{target_id}:{step}".encode(), hashlib.sha256).digest()


def token_for(kind: TargetKind, target_id: int, step: int) -> str:
    mac = base64.b32encode(_mac(kind, target_id, step, "token")[:_TOKEN_MAC_BYTES]).decode().lower()
    return f"{kind.letter}{target_id}-{mac}"


def short_for(kind: TargetKind, target_id: int, step: int) -> str:
    number = int.from_bytes(_mac(kind, target_id, step, "short")[:8], "big")
    symbols = []
    for _i in range(CHECKIN.short_code_length):
        number, digit = divmod(number, len(SHORT_ALPHABET))
        symbols.append(SHORT_ALPHABET[digit])
    return "".join(symbols)


def normalised_short(typed: str) -> str:
    """What a member typed, as the short form: spaces and dashes dropped, upper case."""
    return "".join(ch for ch in (typed or "").upper() if ch.isalnum())


def show_code(user: User, kind: TargetKind, obj: Any) -> ShownCode:
    """The code the host screen shows now (the host only), its short form remembered for look-ups."""
    require_host(user, kind, obj)
    now = clock.now_utc()
    step = step_at(now)
    short = short_for(kind, obj.id, step)
    stored = db.session.execute(select(CheckinCode.id).where(
        CheckinCode.kind == kind.kind, CheckinCode.target_id == obj.id, CheckinCode.step == step)).scalar()
    if stored is None:
        db.session.add(CheckinCode(kind=kind.kind, target_id=obj.id, step=step, short_code=short, shown_at=now))
        try:
            db.session.commit()
        except IntegrityError:  # two host screens of the same target in the same step
            db.session.rollback()
    expires_in = (step + 1) * CHECKIN.step_s - _seconds(now)
    return ShownCode(token=token_for(kind, obj.id, step), short=short, step=step, expires_in=expires_in)


def prune_codes(now: datetime | None = None) -> int:
    """Forget the short forms no check-in accepts any more (older than the previous step): the hourly job.
    Returns how many rows went."""
    oldest_accepted = min(_accepted_steps(now or clock.now_utc()))
    gone = rowcount(db.session.execute(delete(CheckinCode).where(CheckinCode.step < oldest_accepted)
                                       .execution_options(synchronize_session=False)))
    db.session.commit()
    return gone


def _bad_code() -> ServiceError:
    return ServiceError(_("签到码无效或已过期，请扫描或输入屏幕上的最新签到码。"), "bad_code")


def _accepted_steps(seen_at: datetime) -> tuple[int, int]:
    step = step_at(seen_at)
    return step, step - 1


def resolve_token(token: str, seen_at: datetime) -> tuple[TargetKind, int]:
    """The target of a long token shown at most one step before ``seen_at``. ServiceError ``bad_code`` else."""
    head, _sep, mac = (token or "").strip().lower().partition("-")
    kind = next((k for k in KINDS.values() if head[:1] == k.letter), None)
    if kind is None or not head[1:].isdigit() or len(head) > 12 or not mac:
        raise _bad_code()
    target_id = int(head[1:])
    for step in _accepted_steps(seen_at):
        if hmac.compare_digest(token_for(kind, target_id, step).encode(), f"{head}-{mac}".encode()):
            return kind, target_id
    raise _bad_code()


def resolve_short(user: User, typed: str, seen_at: datetime) -> tuple[TargetKind, int]:
    """The target of a typed short form shown at most one step before ``seen_at`` (of the matches, one whose
    audience ``user`` is in). ServiceError ``bad_code`` for anything else."""
    short = normalised_short(typed)
    if len(short) != CHECKIN.short_code_length or any(ch not in SHORT_ALPHABET for ch in short):
        raise _bad_code()
    rows = db.session.execute(select(CheckinCode).where(
        CheckinCode.short_code == short, CheckinCode.step.in_(_accepted_steps(seen_at)))
        .order_by(CheckinCode.step.desc())).scalars().all()
    found = [(KINDS[row.kind], row.target_id) for row in rows if row.kind in KINDS]
    for kind, target_id in found:
        obj = kind.load(target_id)
        if obj is not None and kind.in_audience(obj, user):
            return kind, target_id
    if found:
        return found[0]
    raise _bad_code()


def resolve(user: User, code: str, seen_at: datetime) -> tuple[TargetKind, int]:
    """A long token (scanned) or a short form (typed), whichever ``code`` is."""
    if "-" in (code or "") and len(code.strip()) > CHECKIN.short_code_length + 2:
        return resolve_token(code, seen_at)
    return resolve_short(user, code, seen_at)


# -- checking in ----------------------------------------------------------------------------------------------

def check_in(user: User, code: str, *, evidence: dict[str, str], seen_at: datetime | None = None) -> CheckinResult:
    """Check ``user`` in with ``code``, valid when seen at ``seen_at`` (default now: a member who had to sign in
    first keeps the moment they scanned, within ``CHECKIN.signin_grace_s``). Once only: a second check-in answers
    with the first one's time. ``evidence``: the client's address and user agent, kept in the audit log."""
    now = clock.now_utc()
    seen = seen_at if seen_at is not None and now - timedelta(seconds=CHECKIN.signin_grace_s) <= seen_at <= now \
        else now
    kind, target_id = resolve(user, code, seen)
    obj = kind.load(target_id)
    if obj is None:
        raise _bad_code()
    if not kind.in_audience(obj, user):
        raise Forbidden(_("您不在本次活动的参加范围内，不能签到。"), "not_audience")
    title = kind.title(obj)
    earlier = kind.checked_in_at(obj, user)
    if earlier is not None:
        return CheckinResult(kind.kind, obj.id, title, earlier, new=False)
    opens, closes = kind.window(obj)
    if now < opens:
        raise Conflict(_("签到尚未开始（%(at)s 开始）。", at=clock.to_site(opens).strftime("%H:%M")), "not_open")
    if now > closes:
        raise Conflict(_("签到已经结束。"), "closed")
    at, new = kind.record(obj, user, now, evidence)
    return CheckinResult(kind.kind, obj.id, title, at, new=new)


# -- the host -------------------------------------------------------------------------------------------------

def may_host(user: User, kind: TargetKind, obj: Any) -> bool:
    return may_manage_branch(user, kind.organisation(obj))


def require_host(user: User, kind: TargetKind, obj: Any) -> None:
    if not may_host(user, kind, obj):
        raise Forbidden(_("只有本支部的书记、副书记或上级组织管理员可以主持签到。"))


def present(user: User, kind: TargetKind, obj: Any) -> list[tuple[str, datetime]]:
    """Who has checked in (or been marked present), earliest first: the host screen's live list."""
    require_host(user, kind, obj)
    return kind.present(obj)
