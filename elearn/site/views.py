"""The home page and the health check.

The home is the most visited page: on one phone screen it tells a member what to do next — continue the last
lesson at its position, the required series with a progress bar per course and their due dates, hours against
the requirement with the pace from their joining date, the last credits, unread notifications, their study
points (in all, today, the streak), and recommendations that close their own gap, each with its reason. It
costs a fixed number of queries whatever the number of courses (tests/site/test_home.py counts them).

In the age-friendly mode (elearn.auth.age_friendly) the home is its short version, in words and big buttons:
continue learning, this year's hours against the requirement, the required series still to finish with their
due dates, unread notifications, the study points in a sentence; no recommendations, charts or secondary
lists. An exempt member sees their status in words, in both versions, and no bar or pace."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select, text

from elearn import clock
from elearn.auth import age_friendly
from elearn.courses import catalog, catalog_search, series
from elearn.courses.models import Course, Lesson
from elearn.extensions import db
from elearn.ledger import requirements
from elearn.ledger.models import StudyCredit
from elearn.notify import services as notify
from elearn.orgs import members as users
from elearn.orgs.models import User
from elearn.points import awards as points
from elearn.policy import LEARN_HOME, POLICY, REQUIREMENT_STATES, SECTORS
from elearn.search import services as search
from elearn.study.models import PlaybackSession, WatchProgress
from elearn.training.models import PlannedTraining, TrainingParticipant, TrainingPlan

bp = Blueprint("main", __name__)


@dataclass(frozen=True)
class Recommendation:
    """Something to study next and why (the member's own gap)."""

    title: str
    url: str | None
    reason: str
    detail: str = ""


def continue_learning(user: User) -> dict | None:
    """The lesson of the member's last playback session, with the position it resumes at (the player resumes
    from the saved position on any device); None when there is none or it is no longer open to them."""
    row = db.session.execute(
        select(Lesson, Course.title, WatchProgress.position_s, WatchProgress.watched_s, WatchProgress.completed_at)
        .join(PlaybackSession, PlaybackSession.lesson_id == Lesson.id)
        .join(Course, Course.id == Lesson.course_id)
        .outerjoin(WatchProgress, (WatchProgress.lesson_id == Lesson.id) & (WatchProgress.user_id == user.id))
        .where(PlaybackSession.user_id == user.id)
        .order_by(func.coalesce(PlaybackSession.last_report_at, PlaybackSession.started_at).desc())
        .limit(1)).first()
    if row is None:
        return None
    lesson, course_title, position, watched, completed_at = row
    if not catalog.can_view_course(user, lesson.course):
        return None
    duration = lesson.duration_s or 0.0
    return {"lesson_id": lesson.id, "title": lesson.title, "course_title": course_title,
            "position": int(position or 0), "completed": completed_at is not None,
            "percent": min(100, round(100 * (watched or 0) / duration)) if duration else 0}


def recent_credits(user: User) -> list[StudyCredit]:
    """The member's last ledger entries, newest first."""
    return list(db.session.execute(select(StudyCredit).where(StudyCredit.user_id == user.id)
                                   .order_by(StudyCredit.created_at.desc(), StudyCredit.id.desc())
                                   .limit(LEARN_HOME.recent_credits)).scalars())


def _series_with_progress(user: User) -> list[dict]:
    """The series of the member (due-soon first), each course with the member's progress."""
    listing = series.home_listing(user)
    ids = [c["id"] for s in listing for c in s["courses"]]
    progress = catalog_search.lesson_progress_by_course(user, ids)
    credited = catalog_search.credited_courses(user, ids)
    for s in listing:
        for c in s["courses"]:
            done, playable = progress.get(c["id"], (0, 0))
            c["percent"] = 100 if c["id"] in credited else (min(100, round(100 * done / playable)) if playable else 0)
            c["done"], c["playable"] = done, playable
        s["percent"] = round(sum(c["percent"] for c in s["courses"]) / len(s["courses"])) if s["courses"] else 0
    return listing


def _joinable_trainings(user: User, today) -> list[PlannedTraining]:
    """County-level trainings of filed plans of this year, not over yet, organised by the member's
    organisations or those above them, that the member is not yet assigned to."""
    org_ids = {int(x) for o in catalog.current_orgs(user) for x in o.path.strip("/").split("/") if x}
    org_ids |= {o.id for o in catalog.current_orgs(user)}
    assigned = select(TrainingParticipant.id).where(TrainingParticipant.training_id == PlannedTraining.id,
                                                     TrainingParticipant.user_id == user.id).exists()
    return list(db.session.execute(
        select(PlannedTraining).join(TrainingPlan, TrainingPlan.id == PlannedTraining.plan_id)
        .where(TrainingPlan.status == "filed", TrainingPlan.year == today.year,
               TrainingPlan.organisation_id.in_(org_ids), PlannedTraining.county_level.is_(True),
               PlannedTraining.ends_on >= today, ~assigned)
        .order_by(PlannedTraining.starts_on, PlannedTraining.id).limit(LEARN_HOME.recommendations)).scalars())


def recommendations(user: User, status: requirements.RequirementStatus) -> list[Recommendation]:
    """What closes the member's own gap, each with its reason: innovative-theory courses when their share is
    below the plan's; county-level trainings a secretary short of this year's off-job hours can join; and
    courses of series published to their sector (those come first in every list)."""
    out: list[Recommendation] = []
    sector = user.organisation.sector
    sector_label = SECTORS.get(sector, sector)
    n = LEARN_HOME.recommendations
    chosen: set[int] = set()
    if not status.exempt and status.theory_share < POLICY.theory_share - 1e-9:
        reason = (_("党的创新理论学时占比 %(s).0f%%，低于 %(r).0f%% 的要求。", s=status.theory_share * 100,
                    r=POLICY.theory_share * 100) if status.total_hours > 0
                  else _("党的创新理论学习应不少于总学时的 %(r).0f%%。", r=POLICY.theory_share * 100))
        found, _total = catalog_search.catalog_page(user, catalog_search.CatalogQuery(
            innovative_theory=True, sector_first=sector, per_page=n * 3), with_total=False)
        for e in [e for e in found if e.percent < 100][:n]:
            chosen.add(e.id)
            out.append(Recommendation(title=e.title, url=f"/learn/courses/{e.id}", reason=reason,
                                      detail=_("面向%(s)s领域", s=sector_label) if e.in_sector else ""))
    year = next((y for y in status.years if y.current), None)
    if year is not None and year.offjob_required is not None and year.offjob_met is False:
        reason = _("今年县级以上脱产培训已 %(h).1f 学时，还差 %(m).1f 学时（每年不少于 %(r)d 学时）。",
                   h=year.offjob_county_hours, m=year.offjob_required - year.offjob_county_hours,
                   r=POLICY.secretary_yearly_offjob_hours)
        for t in _joinable_trainings(user, status.today):
            out.append(Recommendation(
                title=t.title, url=None, reason=reason,
                detail=_("%(org)s 主办，%(a)s 至 %(b)s，%(h)g 学时；请向所在组织报名。", org=t.organiser,
                         a=t.starts_on.isoformat(), b=t.ends_on.isoformat(), h=t.hours)))
    found, _total = catalog_search.catalog_page(user, catalog_search.CatalogQuery(
        sector_first=sector, per_page=n * 3), with_total=False)
    for e in [e for e in found if e.in_sector and e.percent == 0 and e.id not in chosen][:n]:
        out.append(Recommendation(title=e.title, url=f"/learn/courses/{e.id}",
                                  reason=_("面向%(s)s领域发布的专题课程，尚未开始学习。", s=sector_label)))
    return out


def simple_home(user: User, status: requirements.RequirementStatus) -> dict:
    """What the age-friendly home shows: the lesson to continue (or the next course of a required series), the
    hours of this year and of the cycle against the requirement, the required series not finished yet (due-soon
    first) each with its next course, and the number of unread notifications."""
    due_series = [s for s in _series_with_progress(user) if s["required"] and s["courses"] and s["percent"] < 100]
    for s in due_series:
        s["finished"] = sum(1 for c in s["courses"] if c["percent"] >= 100)
        s["next"] = next((c for c in s["courses"] if c["percent"] < 100), None)
    year = next((y for y in status.years if y.current), None)
    cycle_years = status.cycle_end.year - status.cycle_start.year + 1
    target = status.target_hours
    return {
        "user": user, "credit": status, "resume": continue_learning(user), "due_series": due_series,
        "next_course": due_series[0]["next"] if due_series else None,
        "year_hours": year.hours if year is not None else None,
        "yearly_hours": target / cycle_years if target else None,
        "hours_left": max(0.0, target - status.total_hours) if target else None,
        "exempt_reason": user.exempt_reason, "unread": notify.unread_count(user), "today": clock.site_today(),
        "points": points.glance(user),
    }


@bp.route("/")
@login_required
def home():
    """The signed-in user's home: what to do next (continue, required series, pace, recommendations), then who
    they are, where they belong and what the plan asks of them; in the age-friendly mode only what to do next,
    in words and big buttons."""
    user = current_user
    if age_friendly.is_on(user):
        return render_template("site/home_simple.html", **simple_home(user, requirements.status(user)))
    org = user.organisation
    chain = []
    node = org
    while node is not None:
        chain.append(node.name)
        node = node.parent
    responsible = users.responsible_org(user)
    status = requirements.status(user)
    return render_template(
        "site/home.html",
        user=user,
        series_list=_series_with_progress(user),
        credit=status,
        credit_state_label=REQUIREMENT_STATES.get(status.state, status.state),
        org_chain=list(reversed(chain)),
        responsible=responsible if responsible.id != org.id else None,
        target_hours=None if user.exempt else POLICY.cycle_hours_for(user.category),
        policy_numbers=POLICY,
        joined_on=requirements.joined_on(user),
        resume=continue_learning(user),
        recent=recent_credits(user),
        unread=notify.unread_count(user),
        recommended=recommendations(user, status),
        points=points.glance(user),
        today=clock.site_today(),
    )


@bp.route("/healthz")
def healthz():
    """Liveness probe for load balancers: the database answers. Names the search backend in use (whoosh, the
    embedded default, or PostgreSQL), so an operator can tell which one a node runs."""
    db.session.execute(text("select 1"))
    return {"status": "ok", "search": "postgresql" if search.uses_database() else "whoosh"}
