"""The lecturer studio: courses, lessons, resumable video uploads, subtitles, transcode progress.

The upload endpoints speak JSON and are called by ``static/js/upload.js`` with the session cookie; as every
write under this blueprint they need the CSRF token, sent in the ``X-CSRFToken`` header. Protocol:

* ``POST /studio/lessons/<id>/uploads`` ``{"filename", "size", "sha256"?}`` → 201 ``{"id", "offset", …}``
  (the open session of the same file is returned to resume it);
* ``GET|HEAD /studio/uploads/<id>`` → the offset (also in the ``Upload-Offset`` header);
* ``PUT|POST /studio/uploads/<id>?offset=N`` (or ``Content-Range: bytes N-M/size``) with raw bytes → the new
  offset; 409 ``{"error", "offset"}`` when N is not where the file ends;
* ``DELETE /studio/uploads/<id>`` cancels;
* ``GET /studio/assets/<id>/status`` → ``{"status", "progress", "error"}`` for the live state.
"""
from __future__ import annotations

import re
from functools import wraps

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, FloatField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from elearn.policy import ASSET_STATUS_LABELS, CONTENT_CATEGORIES, SUBTITLE_LANGUAGES
from elearn.services import ServiceError, courses, media, uploads
from elearn.services.catalog import can_edit_course
from elearn.web import json_error

bp = Blueprint("studio", __name__, url_prefix="/studio")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV = [("studio.index", _l("课程工作室"), courses.STUDIO_ROLES)]

CONTENT_RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class CourseForm(FlaskForm):
    title = StringField(_l("课程名称"), validators=[DataRequired(_l("请填写课程名称。")), Length(max=200)])
    description = TextAreaField(_l("课程简介（支持 Markdown）"), render_kw={"rows": 6})
    category = SelectField(_l("课程类别"))
    innovative_theory = BooleanField(_l("属于党的创新理论教育"))
    declared_hours = FloatField(_l("认定学时（可选）"), validators=[
        Optional(), NumberRange(min=0.1, max=100, message=_l("认定学时应在 0.1 到 100 之间。"))])
    submit = SubmitField(_l("保存"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = [(k, str(v)) for k, v in CONTENT_CATEGORIES.items()]


class LessonForm(FlaskForm):
    title = StringField(_l("课时名称"), validators=[DataRequired(_l("请填写课时名称。")), Length(max=200)])
    description = TextAreaField(_l("课时说明（支持 Markdown）"), render_kw={"rows": 3})
    submit = SubmitField(_l("保存"))


class SubtitleForm(FlaskForm):
    file = FileField(_l("字幕文件（.srt 或 .vtt）"), validators=[FileRequired(_l("请选择字幕文件。"))],
                     render_kw={"accept": ".srt,.vtt"})
    lang = SelectField(_l("语言"))
    submit = SubmitField(_l("上传字幕"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lang.choices = [(k, str(v)) for k, v in SUBTITLE_LANGUAGES.items()]


def studio_required(view):
    """Pages: sign-in required, then lecturers and site admins only (403 for others)."""
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role not in courses.STUDIO_ROLES:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def studio_json(view):
    """JSON endpoints: 401/403 and service errors as JSON ``{"error": …}`` instead of pages."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return json_error(401, "unauthorized", _("请先登录。"))
        if current_user.role not in courses.STUDIO_ROLES:
            return json_error(403, "forbidden", _("您无权访问此页面。"))
        try:
            return view(*args, **kwargs)
        except (uploads.OffsetMismatch, uploads.StorageFull) as exc:
            from elearn.extensions import db
            db.session.rollback()
            response = jsonify({"error": {"code": exc.code, "message": exc.message}, "offset": exc.offset})
            response.status_code = exc.status
            response.headers["Upload-Offset"] = str(exc.offset)
            return response
        except ServiceError as exc:
            from elearn.extensions import db
            db.session.rollback()
            return json_error(exc.status, exc.code, exc.message)
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
    return render_template("studio/index.html", courses=courses.studio_courses(current_user))


def _save_course(form: CourseForm, course=None):
    values = dict(title=form.title.data, description=form.description.data or "", category=form.category.data,
                  innovative_theory=form.innovative_theory.data, declared_hours=form.declared_hours.data)
    if course is None:
        return courses.create_course(current_user, **values)
    return courses.update_course(current_user, course, **values)


@bp.route("/courses/new", methods=["GET", "POST"])
@studio_required
def new_course():
    """Create a draft course."""
    form = CourseForm()
    status = 200
    if form.validate_on_submit():
        try:
            course = _save_course(form)
        except ServiceError as exc:
            form.form_errors.append(exc.message)
            status = exc.status
        else:
            flash(_("已创建课程：%(title)s", title=course.title), "success")
            return redirect(url_for("studio.course", course_id=course.id))
    elif request.method == "POST":
        status = 400
    return render_template("studio/course_form.html", form=form, course=None), status


@bp.route("/courses/<int:course_id>", methods=["GET", "POST"])
@studio_required
def course(course_id: int):
    """Edit a course, list and reorder its lessons, add one, submit for review."""
    course = courses.studio_course(current_user, course_id)
    form = CourseForm(obj=course, prefix="course")
    lesson_form = LessonForm(prefix="lesson")
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                _save_course(form, course)
            except ServiceError as exc:
                form.form_errors.append(exc.message)
                status = exc.status
            else:
                flash(_("已保存。"), "success")
                return redirect(url_for("studio.course", course_id=course.id))
        else:
            status = 400
    return render_template("studio/course.html", course=course, form=form, lesson_form=lesson_form,
                           rows=_lesson_rows(course), editable=can_edit_course(current_user, course),
                           description_html=courses.render_markdown(course.description)), status


@bp.post("/courses/<int:course_id>/lessons")
@studio_required
def add_lesson(course_id: int):
    """Add a lesson at the end of the course."""
    course = courses.studio_course(current_user, course_id)
    form = LessonForm(prefix="lesson")
    if not form.validate():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
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
        if exc.status == 403:
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
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                courses.update_lesson(current_user, lesson, title=form.title.data, description=form.description.data)
            except ServiceError as exc:
                form.form_errors.append(exc.message)
                status = exc.status
            else:
                flash(_("已保存。"), "success")
                return redirect(url_for("studio.lesson", lesson_id=lesson.id))
        else:
            status = 400
    return _lesson_page(lesson, form, SubtitleForm(prefix="sub"), status)


def _lesson_page(lesson, form, subtitle_form, status):
    latest = media.latest_asset(lesson)
    return render_template(
        "studio/lesson.html", lesson=lesson, course=lesson.course, form=form, subtitle_form=subtitle_form,
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
            if exc.status == 403:
                raise
            subtitle_form.file.errors = [exc.message]
        else:
            flash(_("字幕已上传。"), "success")
            return redirect(url_for("studio.lesson", lesson_id=lesson.id))
    return _lesson_page(lesson, LessonForm(obj=lesson), subtitle_form, 400)


# ---------------------------------------------------------------- JSON: uploads and status


@bp.post("/lessons/<int:lesson_id>/uploads")
@studio_json
def create_upload(lesson_id: int):
    """Open (or resume) a resumable upload of the lesson's video."""
    lesson = courses.studio_lesson(current_user, lesson_id)
    body = request.get_json(silent=True) or {}
    size = body.get("size")
    upload = uploads.create_upload(current_user, lesson, filename=str(body.get("filename") or ""),
                                   size=size if isinstance(size, int) else -1, sha256=body.get("sha256") or None)
    data = uploads.describe(upload)
    data["url"] = url_for("studio.upload", upload_id=upload.id)
    data["status_url"] = url_for("studio.asset_status", asset_id=upload.asset_id)
    return jsonify(data), 201


def _upload_response(upload):
    data = uploads.describe(upload)
    response = jsonify(data)
    response.headers["Upload-Offset"] = str(data["offset"])
    response.headers["Cache-Control"] = "no-store"
    return response


def _requested_offset() -> int:
    header = request.headers.get("Content-Range", "")
    if header:
        match = CONTENT_RANGE_RE.match(header.strip())
        if not match:
            raise ServiceError(_("Content-Range 头格式无效。"), "bad_range")
        return int(match.group(1))
    raw = request.args.get("offset", "")
    if not raw.isdigit():
        raise ServiceError(_("缺少上传位置（offset）。"), "offset_required")
    return int(raw)


@bp.route("/uploads/<upload_id>", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
@studio_json
def upload(upload_id: str):
    """Read the offset (GET/HEAD), append a chunk (PUT/POST), or cancel (DELETE) an upload."""
    session = uploads.get_upload(current_user, upload_id)
    if request.method in ("PUT", "POST"):
        offset = _requested_offset()
        uploads.append_chunk(current_user, session, offset, request.stream)
        if session.status == "failed":
            asset = media.studio_asset(current_user, session.asset_id)
            return json_error(422, "upload_failed", asset.error or _("上传失败。"))
    elif request.method == "DELETE":
        uploads.abort_upload(current_user, session)
    return _upload_response(session)


@bp.get("/assets/<int:asset_id>/status")
@studio_json
def asset_status(asset_id: int):
    """Live state of a video: queued, transcoding n %, ready, failed with the reason."""
    asset = media.studio_asset(current_user, asset_id)
    if asset.status in ("queued", "transcoding"):
        # A worker that died mid-job is noticed here too, not only by the periodic sweep.
        media.requeue_stale_assets([asset.id])
        asset = media.studio_asset(current_user, asset_id)
    data = media.asset_state(asset)
    data["label"] = _status_label(asset.status)
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response
