"""Publishing: the course review queue and series (专题) management, for site admins."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from elearn.access import Role
from elearn.courses import review
from elearn.courses import series as series_svc
from elearn.courses import services as courses
from elearn.courses.models import Course, Series
from elearn.errors import ServiceError
from elearn.extensions import db
from elearn.http.errors import status_for
from elearn.http.forms import Form, MultiCheckboxField, attempt, flash_and_redirect, submit
from elearn.orgs.models import Organisation
from elearn.policy import CONTENT_CATEGORIES, COURSE_STATUS_LABELS, MEMBER_CATEGORIES, SECTORS

bp = Blueprint("publish", __name__, url_prefix="/publish")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV = [("publish.review_queue", _l("课程审核"), (Role.SITE_ADMIN,)),
       ("publish.series_list", _l("专题发布"), (Role.SITE_ADMIN,))]


def publisher_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role != Role.SITE_ADMIN:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


class ReviewForm(Form):
    comment = TextAreaField(_l("审核意见"), validators=[Optional(), Length(max=review.COMMENT_MAX)])


class SeriesForm(Form):
    title = StringField(_l("专题名称"), validators=[DataRequired(_l("请填写专题名称。")), Length(max=200)])
    description = TextAreaField(_l("简介"), validators=[Optional(), Length(max=4000)])
    required = BooleanField(_l("必修"))
    opens_on = DateField(_l("开放日期"), validators=[Optional()])
    due_on = DateField(_l("截止日期"), validators=[Optional()])
    sectors = MultiCheckboxField(_l("发布到领域"))
    orgs_subtree = SelectMultipleField(_l("发布到组织（含下级组织）"), coerce=int)
    orgs_only = SelectMultipleField(_l("发布到组织（仅本级）"), coerce=int)
    categories = MultiCheckboxField(_l("限定党员类别（不选则不限）"))

    def __init__(self, *args, org_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.sectors.choices = [(k, str(v)) for k, v in SECTORS.items()]
        self.categories.choices = [(k, str(v)) for k, v in MEMBER_CATEGORIES.items()]
        self.orgs_subtree.choices = list(org_choices)
        self.orgs_only.choices = list(org_choices)


def _org_choices():
    rows = db.session.execute(select(Organisation.id, Organisation.name, Organisation.path)
                              .order_by(Organisation.path)).all()
    return [(oid, ("· " * (path.count("/") - 2)) + name) for oid, name, path in rows]


def _course_or_404(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None:
        abort(404)
    return course


def _series_or_404(series_id: int) -> Series:
    series = db.session.get(Series, series_id)
    if series is None:
        abort(404)
    return series


@bp.route("/review")
@publisher_required
def review_queue():
    """Courses submitted for review, and the latest decisions."""
    return render_template("courses/publish/review_queue.html", queue=review.queue(current_user),
                           recent=review.recent(current_user), categories=CONTENT_CATEGORIES)


@bp.route("/review/<int:course_id>", methods=["GET", "POST"])
@publisher_required
def review_course(course_id: int):
    """One submitted course: its lessons and a form to approve it or return it with comments."""
    course = _course_or_404(course_id)
    form = ReviewForm()

    def decide() -> str:
        decision = request.form.get("decision")
        if decision == "approve":
            review.approve(current_user, course, form.comment.data)
            return _("已通过审核：%(t)s", t=course.title)
        if decision == "return":
            review.return_for_changes(current_user, course, form.comment.data)
            return _("已退回：%(t)s", t=course.title)
        raise ServiceError(_("请选择通过或退回。"), "bad_decision")

    done = submit(form, decide, error_field=form.comment, not_found_status=404,
                  done=lambda message: flash_and_redirect(message, url_for("publish.review_queue")))
    return done.response or (render_template("courses/publish/review_course.html", course=course, form=form,
                                             categories=CONTENT_CATEGORIES, statuses=COURSE_STATUS_LABELS,
                                             description_html=courses.render_markdown(course.description)),
                             done.status)


@bp.route("/series")
@publisher_required
def series_list():
    """Every series with its state, audience and course count."""
    return render_template("courses/publish/series_list.html", series=series_svc.all_series(current_user))


def _course_order(courses: list[Course]) -> tuple[list[int], list[str]]:
    """The courses ticked in the form, ordered by the position typed next to each."""
    chosen, errors = [], []
    for c in courses:
        if request.form.get(f"course_{c.id}") != "y":
            continue
        raw = (request.form.get(f"pos_{c.id}") or "").strip()
        try:
            pos = int(raw) if raw else 10_000
        except ValueError:
            errors.append(_("课程“%(t)s”的顺序须为数字。", t=c.title))
            continue
        chosen.append((pos, c.title, c.id))
    chosen.sort()
    return [cid for _p, _t, cid in chosen], errors


@bp.route("/series/new", methods=["GET", "POST"], defaults={"series_id": None})
@bp.route("/series/<int:series_id>", methods=["GET", "POST"])
@publisher_required
def series_edit(series_id: int | None):
    """Create or edit a series: fields, ordered courses, audience; publish or unpublish it."""
    series = _series_or_404(series_id) if series_id else None
    form = SeriesForm(obj=series, org_choices=_org_choices())
    courses = series_svc.approved_courses()
    if series is not None:
        # Keep courses already in the series listed even if no longer approved, so the admin sees them.
        listed = {c.id for c in courses}
        courses += [i.course for i in series.items if i.course_id not in listed]
    positions = {i.course_id: i.position + 1 for i in series.items} if series else {}
    if series is not None and request.method == "GET":
        aud = series_svc.audience_of(series)
        form.sectors.data = list(aud.sectors)
        form.categories.data = list(aud.categories)
        form.orgs_subtree.data = [oid for oid, sub in aud.organisations if sub]
        form.orgs_only.data = [oid for oid, sub in aud.organisations if not sub]
    status = 200
    errors: list[str] = []
    if request.method == "POST":
        course_ids, errors = _course_order(courses)
        positions = {cid: i + 1 for i, cid in enumerate(course_ids)}
        if form.validate() and not errors:
            overlap = set(form.orgs_subtree.data) & set(form.orgs_only.data)
            audience = series_svc.Audience(
                sectors=tuple(form.sectors.data), categories=tuple(form.categories.data),
                organisations=tuple([(o, True) for o in form.orgs_subtree.data]
                                    + [(o, False) for o in form.orgs_only.data if o not in overlap]))
            try:
                series = series_svc.save(current_user, series, title=form.title.data,
                                         description=form.description.data, required=form.required.data,
                                         opens_on=form.opens_on.data, due_on=form.due_on.data,
                                         course_ids=course_ids, audience=audience)
            except ServiceError as exc:
                db.session.rollback()
                errors.append(exc.message)
                status = status_for(exc)
            else:
                flash(_("已保存专题：%(t)s", t=series.title), "success")
                return redirect(url_for("publish.series_edit", series_id=series.id))
        else:
            status = 400
    return render_template("courses/publish/series_form.html", form=form, series=series, courses=courses,
                           positions=positions, errors=errors, categories=CONTENT_CATEGORIES), status


@bp.route("/series/<int:series_id>/publish", methods=["POST"])
@publisher_required
def series_publish(series_id: int):
    """Publish (``publish=1``) or unpublish a series."""
    series = _series_or_404(series_id)
    if request.form.get("publish") == "1":
        attempt(lambda: series_svc.publish(current_user, series), success=_("专题已发布。"))
    else:
        attempt(lambda: series_svc.unpublish(current_user, series), success=_("专题已撤回。"))
    return redirect(url_for("publish.series_edit", series_id=series.id))
