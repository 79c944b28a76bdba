"""Annual off-job training plans (脱产培训计划) filed per organisation (备案), their trainings and participants.

Assigning members warns when a member would be sent to trainings that overlap in time or duplicate one they
already attend in the same year (重复培训); the admin may assign anyway after acknowledging the warning.
Org admins act within their subtree, site admins everywhere; every change is audited.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, extract, func, or_, select
from sqlalchemy.orm import selectinload

from elearn import clock
from elearn.access import Role
from elearn.audit import services as audit
from elearn.branch import surveys
from elearn.errors import Conflict, Forbidden, NotFound, ServiceError
from elearn.extensions import db
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.policy import POLICY
from elearn.training.models import PlannedTraining, TrainingParticipant, TrainingPlan

PLAN_FIELDS = ["organisation_id", "year", "title", "note", "status", "filed_at"]
TRAINING_FIELDS = ["title", "organiser", "county_level", "starts_on", "ends_on", "hours", "location"]


def _norm_title(title: str) -> str:
    """Titles compared for duplicates: case, spaces and punctuation ignored."""
    return re.sub(r"[\s\W_]+", "", title or "").lower()


# -- reading ---------------------------------------------------------------------------------------------------

def plans_for(actor: User, year: int | None = None) -> list[TrainingPlan]:
    """Plans of organisations the actor manages, newest year first."""
    if actor.role not in (Role.ORG_ADMIN, Role.SITE_ADMIN):
        raise Forbidden()
    stmt = (select(TrainingPlan).join(Organisation, Organisation.id == TrainingPlan.organisation_id)
            .options(selectinload(TrainingPlan.organisation), selectinload(TrainingPlan.trainings))
            .order_by(TrainingPlan.year.desc(), Organisation.path))
    if actor.role == Role.ORG_ADMIN:
        stmt = stmt.where(Organisation.path.startswith(actor.organisation.path, autoescape=True))
    if year:
        stmt = stmt.where(TrainingPlan.year == year)
    return list(db.session.execute(stmt).scalars())


def get_plan(actor: User, plan_id: int) -> TrainingPlan:
    plan = db.session.get(TrainingPlan, plan_id)
    if plan is None or not orgs.can_manage(actor, plan.organisation):
        raise NotFound(_("培训计划不存在。"))
    return plan


def get_training(actor: User, training_id: int) -> PlannedTraining:
    training = db.session.get(PlannedTraining, training_id)
    if training is None or not orgs.can_manage(actor, training.plan.organisation):
        raise NotFound(_("培训不存在。"))
    return training


# -- plans and trainings ---------------------------------------------------------------------------------------

def create_plan(actor: User, org: Organisation, *, year: int, title: str, note: str = "") -> TrainingPlan:
    orgs.require_manage(actor, org)
    title = (title or "").strip()
    if not title:
        raise ServiceError(_("请填写计划名称。"), "title_required")
    if not (POLICY.cycle_start.year - 1 <= year <= POLICY.cycle_end.year + 1):
        raise ServiceError(_("年度超出范围。"), "bad_year")
    exists = db.session.execute(select(TrainingPlan.id).where(
        TrainingPlan.organisation_id == org.id, TrainingPlan.year == year)).first()
    if exists:
        raise Conflict(_("该组织 %(y)d 年度的培训计划已存在。", y=year), "plan_exists")
    plan = TrainingPlan(organisation=org, year=year, title=title, note=(note or "").strip(),
                        created_by_id=actor.id)
    db.session.add(plan)
    db.session.flush()
    audit.record(actor, "training_plan.create", plan, after=audit.snapshot(plan, PLAN_FIELDS))
    db.session.commit()
    return plan


def add_training(actor: User, plan: TrainingPlan, *, title: str, organiser: str, starts_on: date, ends_on: date,
                 hours: float, county_level: bool = False, location: str = "") -> PlannedTraining:
    orgs.require_manage(actor, plan.organisation)
    title, organiser = (title or "").strip(), (organiser or "").strip()
    if not title:
        raise ServiceError(_("请填写培训名称。"), "title_required")
    if not organiser:
        raise ServiceError(_("请填写主办单位。"), "organiser_required")
    if starts_on is None or ends_on is None or ends_on < starts_on:
        raise ServiceError(_("结束日期不能早于开始日期。"), "bad_dates")
    if starts_on.year != plan.year:
        raise ServiceError(_("培训须在计划年度（%(y)d 年）内开始。", y=plan.year), "bad_year")
    if hours is None or not (0 < hours <= POLICY.offline_max_hours):
        raise ServiceError(_("学时须大于 0 且不超过 %(m)g。", m=POLICY.offline_max_hours), "bad_hours")
    training = PlannedTraining(plan=plan, title=title, organiser=organiser, starts_on=starts_on, ends_on=ends_on,
                               hours=float(hours), county_level=bool(county_level), location=(location or "").strip())
    db.session.add(training)
    db.session.flush()
    audit.record(actor, "training_plan.add_training", training, after=audit.snapshot(training, TRAINING_FIELDS))
    db.session.commit()
    return training


def file_plan(actor: User, plan: TrainingPlan) -> TrainingPlan:
    """File (备案) the plan: it needs at least one training; filing is recorded with its time."""
    orgs.require_manage(actor, plan.organisation)
    if plan.status == "filed":
        raise Conflict(_("该计划已备案。"), "already_filed")
    if not plan.trainings:
        raise ServiceError(_("计划中至少要有一项培训才能备案。"), "no_trainings")
    before = audit.snapshot(plan, PLAN_FIELDS)
    plan.status = "filed"
    plan.filed_at = clock.now_utc()
    plan.filed_by_id = actor.id
    audit.record(actor, "training_plan.file", plan, before=before, after=audit.snapshot(plan, PLAN_FIELDS))
    db.session.commit()
    return plan


def cite_survey(actor: User, plan: TrainingPlan, survey_id: int | None) -> TrainingPlan:
    """Record the needs survey the plan answers (None: none): a published survey of the plan's organisation
    or an organisation above it (elearn.branch.surveys.citable)."""
    orgs.require_manage(actor, plan.organisation)
    if survey_id is not None and survey_id not in {s.id for s in surveys.citable(plan.organisation)}:
        raise NotFound(_("调研不存在。"))
    before = {"survey_id": plan.survey_id}
    plan.survey_id = survey_id
    audit.record(actor, "training_plan.survey", plan, before=before, after={"survey_id": survey_id})
    db.session.commit()
    return plan


# -- participants and the duplicate/overlap warning -------------------------------------------------------------

@dataclass(frozen=True)
class TrainingClash:
    user_id: int
    user_name: str
    kind: str  # "overlap" or "duplicate"
    other_id: int
    other_title: str
    other_starts_on: date
    other_ends_on: date

    @property
    def message(self) -> str:
        when = f"{self.other_starts_on.isoformat()}–{self.other_ends_on.isoformat()}"
        if self.kind == "duplicate":
            return _("%(n)s 今年已参加同名培训“%(t)s”（%(w)s），可能重复培训。", n=self.user_name,
                     t=self.other_title, w=when)
        return _("%(n)s 在同一时间已被安排参加“%(t)s”（%(w)s）。", n=self.user_name, t=self.other_title, w=when)


def conflicts(training: PlannedTraining, user_ids: list[int]) -> list[TrainingClash]:
    """Trainings these members are already assigned to that overlap ``training`` in time, or share its title
    in the same year — one query whatever the number of members."""
    if not user_ids:
        return []
    other = PlannedTraining
    overlap = and_(other.starts_on <= training.ends_on, other.ends_on >= training.starts_on)
    same_year = extract("year", other.starts_on) == training.starts_on.year
    rows = db.session.execute(
        select(TrainingParticipant.user_id, User.name, other.id, other.title, other.starts_on, other.ends_on)
        .join(other, other.id == TrainingParticipant.training_id)
        .join(User, User.id == TrainingParticipant.user_id)
        .where(TrainingParticipant.user_id.in_(user_ids), other.id != training.id, or_(overlap, same_year))
        .order_by(TrainingParticipant.user_id, other.starts_on)).all()
    rows = sorted(rows, key=lambda r: r[1])  # by name, stably (names are encrypted: SQL cannot sort them)
    key = _norm_title(training.title)
    out = []
    for uid, name, oid, title, s, e in rows:
        if s <= training.ends_on and e >= training.starts_on:
            out.append(TrainingClash(uid, name, "overlap", oid, title, s, e))
        elif _norm_title(title) == key:
            out.append(TrainingClash(uid, name, "duplicate", oid, title, s, e))
    return out


@dataclass
class AssignResult:
    added: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)
    warnings: list[TrainingClash] = field(default_factory=list)
    saved: bool = False


def resolve_members(actor: User, training: PlannedTraining, usernames: list[str]) -> tuple[list[User], list[str]]:
    """Users named by username among the plan organisation's subtree; the names not found."""
    names = sorted({u.strip() for u in usernames if u and u.strip()})
    if not names:
        return [], []
    root = training.plan.organisation
    found = list(db.session.execute(
        select(User).join(Organisation, Organisation.id == User.organisation_id)
        .where(func.lower(User.username).in_([n.lower() for n in names]), User.active.is_(True),
               Organisation.path.startswith(root.path, autoescape=True))).scalars())
    known = {u.username.lower() for u in found}
    return found, [n for n in names if n.lower() not in known]


def assign(actor: User, training: PlannedTraining, members: list[User], *, acknowledge: bool = False) -> AssignResult:
    """Assign ``members`` to ``training``. With overlap/duplicate warnings and no ``acknowledge`` nothing is
    saved and the warnings are returned; with ``acknowledge`` they are saved and the warning is recorded."""
    orgs.require_manage(actor, training.plan.organisation)
    for m in members:
        if not m.organisation.is_within(training.plan.organisation):
            raise Forbidden(_("只能安排本组织及下级组织的党员。"))
    current = {p.user_id for p in training.participants}
    result = AssignResult(already=[m.id for m in members if m.id in current])
    new = [m for m in members if m.id not in current]
    result.warnings = conflicts(training, [m.id for m in new])
    if result.warnings and not acknowledge:
        return result
    warned = {c.user_id for c in result.warnings}
    for m in new:
        training.participants.append(TrainingParticipant(user_id=m.id, warning_acknowledged=m.id in warned))
        result.added.append(m.id)
    if new:
        audit.record(actor, "training_plan.assign", training,
                     after={"user_ids": result.added, "acknowledged_warnings": sorted(warned)})
        db.session.commit()
    result.saved = True
    return result


def unassign(actor: User, training: PlannedTraining, user_id: int) -> None:
    orgs.require_manage(actor, training.plan.organisation)
    for p in list(training.participants):
        if p.user_id == user_id:
            training.participants.remove(p)
            audit.record(actor, "training_plan.unassign", training, before={"user_id": user_id})
            db.session.commit()
            return
    raise NotFound(_("该党员不在培训名单中。"))
