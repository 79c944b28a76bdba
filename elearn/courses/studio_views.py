"""The lecturer studio: courses, lessons, their order, subtitles, submission for review. (Video uploads and
transcode progress are :mod:`elearn.media.views`.)"""
from __future__ import annotations

from functools import wraps

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import (
    BooleanField,
    FloatField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from elearn.community import panels as community
from elearn.courses import learner_stats
from elearn.courses import services as courses
from elearn.courses.catalog import can_edit_course
from elearn.errors import Forbidden, ServiceError
from elearn.http.forms import Form, flash_and_redirect, form_errors, submit
from elearn.media import services as media
from elearn.media import uploads
from elearn.media.forms import SubtitleForm
from elearn.policy import ASSET_STATUS_LABELS, CONTENT_CATEGORIES

bp = Blueprint("studio", __name__, url_prefix="/studio")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV = [("studio.index", _l("课程工作室"), courses.STUDIO_ROLES)]


class CourseForm(Form):
    title = StringField(_l("课程名称"), validators=[DataRequired(_l("请填写课程名称。")), Length(max=200)])
    description = TextAreaField(_l("课程简介（支持 Markdown）"), render_kw={"rows": 6})
    category = SelectField(_l("课程类别"))
    innovative_theory = BooleanField(_l("属于党的创新理论教育"))
    attention_checks = BooleanField(_l("防挂机：学习中随机请学员确认仍在观看（未确认期间不计学时）"))
    declared_hours = FloatField(_l("认定学时（可选）"), validators=[
        Optional(), NumberRange(min=0.1, max=100, message=_l("认定学时应在 0.1 到 100 之间。"))])
    submit = SubmitField(_l("保存"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = [(k, str(v)) for k, v in CONTENT_CATEGORIES.items()]


class LessonForm(Form):
    title = StringField(_l("课时名称"), validators=[DataRequired(_l("请填写课时名称。")), Length(max=200)])
    description = TextAreaField(_l("课时说明（支持 Markdown）"), render_kw={"rows": 3})
    submit = SubmitField(_l("保存"))


def studio_required(view):
    """Pages: sign-in required, then lecturers and site admins only (403 for others)."""
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role not in courses.STUDIO_ROLES:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def _status_label(status: str) -> str:
    return str(ASSET_STATUS_LABELS.get(status, status))


def _lesson_rows(course) -> list[dict]:
    rows = []
    for lesson in course.lessons:
        latest = media.latest_asset(lesson)
        rows.append({"lesson": lesson, "latest": latest,
                     "status_label": _status_label(latest.status) if latest else _("未上传视频"),
                     "duration_s": lesson.duration_s})
    return rows


# ---------------------------------------------------------------- pages


@bp.route("/")
@studio_required
def index():
    """The lecturer's courses with their review state."""
    return render_template("courses/studio/index.html", courses=courses.studio_courses(current_user))


def _save_course(form: CourseForm, course=None):
    values = dict(title=form.title.data, description=form.description.data or "", category=form.category.data,
                  innovative_theory=form.innovative_theory.data, declared_hours=form.declared_hours.data,
                  attention_checks=form.attention_checks.data)
    if course is None:
        return courses.create_course(current_user, **values)
    return courses.update_course(current_user, course, **values)


@bp.route("/courses/new", methods=["GET", "POST"])
@studio_required
def new_course():
    """Create a draft course."""
    form = CourseForm()
    done = submit(form, lambda: _save_course(form), not_found_status=404, done=lambda course: flash_and_redirect(
        _("已创建课程：%(title)s", title=course.title), url_for("studio.course", course_id=course.id)))
    return done.response or (render_template("courses/studio/course_form.html", form=form, course=None),
                             done.status)


@bp.route("/courses/<int:course_id>", methods=["GET", "POST"])
@studio_required
def course(course_id: int):
    """Edit a course, list and reorder its lessons, add one, submit for review."""
    course = courses.studio_course(current_user, course_id)
    form = CourseForm(obj=course, prefix="course")
    lesson_form = LessonForm(prefix="lesson")
    done = submit(form, lambda: _save_course(form, course), not_found_status=404, done=lambda _saved: (
        flash_and_redirect(_("已保存。"), url_for("studio.course", course_id=course.id))))
    return done.response or (render_template(
        "courses/studio/course.html", course=course, form=form, lesson_form=lesson_form, rows=_lesson_rows(course),
        editable=can_edit_course(current_user, course), community=community.studio_panel(course),
        description_html=courses.render_markdown(course.description)), done.status)


@bp.get("/courses/<int:course_id>/learners")
@studio_required
def course_learners(course_id: int):
    """The course's learner statistics: started, completed, average coverage, quiz pass rate, questions waiting
    for an answer (the course's lecturer and site admins; 404 for another lecturer's course)."""
    course = courses.studio_course(current_user, course_id)
    return render_template("courses/studio/learners.html", course=course,
                           stats=learner_stats.course_learner_stats(course))


@bp.post("/courses/<int:course_id>/lessons")
@studio_required
def add_lesson(course_id: int):
    """Add a lesson at the end of the course."""
    course = courses.studio_course(current_user, course_id)
    form = LessonForm(prefix="lesson")
    if not form.validate():
        flash(" ".join(form_errors(form)), "error")
        return redirect(url_for("studio.course", course_id=course.id)), 303
    lesson = courses.add_lesson(current_user, course, title=form.title.data, description=form.description.data)
    flash(_("已添加课时：%(title)s", title=lesson.title), "success")
    return redirect(url_for("studio.lesson", lesson_id=lesson.id))


@bp.post("/lessons/<int:lesson_id>/move")
@studio_required
def move_lesson(lesson_id: int):
    """Move a lesson one place up or down."""
    lesson = courses.studio_lesson(current_user, lesson_id)
    offset = -1 if request.form.get("direction") == "up" else 1
    courses.move_lesson(current_user, lesson, offset)
    return redirect(url_for("studio.course", course_id=lesson.course_id) + f"#lesson-{lesson.id}")


@bp.post("/courses/<int:course_id>/submit")
@studio_required
def submit_course(course_id: int):
    """Send the course to review."""
    course = courses.studio_course(current_user, course_id)
    try:
        courses.submit_for_review(current_user, course)
    except ServiceError as exc:
        if isinstance(exc, Forbidden):
            raise
        flash(exc.message, "error")
    else:
        flash(_("已提交审核。"), "success")
    return redirect(url_for("studio.course", course_id=course.id))


@bp.route("/lessons/<int:lesson_id>", methods=["GET", "POST"])
@studio_required
def lesson(lesson_id: int):
    """Edit a lesson; upload its video and subtitles; watch the transcode progress."""
    lesson = courses.studio_lesson(current_user, lesson_id)
    form = LessonForm(obj=lesson)
    done = submit(form, lambda: courses.update_lesson(current_user, lesson, title=form.title.data,
                                                       description=form.description.data), not_found_status=404,
                  done=lambda _saved: flash_and_redirect(_("已保存。"), url_for("studio.lesson", lesson_id=lesson.id)))
    return done.response or _lesson_page(lesson, form, SubtitleForm(prefix="sub"), done.status)


def _lesson_page(lesson, form, subtitle_form, status):
    latest = media.latest_asset(lesson)
    return render_template(
        "courses/studio/lesson.html", lesson=lesson, course=lesson.course, form=form, subtitle_form=subtitle_form,
        latest=latest, latest_label=_status_label(latest.status) if latest else None,
        current=lesson.asset, editable=can_edit_course(current_user, lesson.course),
        max_upload_mb=uploads.max_upload_bytes() // (1024 * 1024),
        status_labels={k: str(v) for k, v in ASSET_STATUS_LABELS.items()}), status


@bp.post("/lessons/<int:lesson_id>/subtitles")
@studio_required
def upload_subtitles(lesson_id: int):
    """Upload .srt/.vtt subtitles for a lesson; they are added to its video when it is ready."""
    lesson = courses.studio_lesson(current_user, lesson_id)
    subtitle_form = SubtitleForm(prefix="sub")
    if subtitle_form.validate():
        upload = subtitle_form.file.data
        try:
            media.add_subtitle(current_user, lesson, upload.read(), upload.filename or "", subtitle_form.lang.data)
        except ServiceError as exc:
            if isinstance(exc, Forbidden):
                raise
            subtitle_form.file.errors = [exc.message]
        else:
            flash(_("字幕已上传。"), "success")
            return redirect(url_for("studio.lesson", lesson_id=lesson.id))
    return _lesson_page(lesson, LessonForm(obj=lesson), subtitle_form, 400)
