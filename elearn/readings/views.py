"""Readings: upload (admins and lecturers), attach to courses, and the reader view for phones and PCs."""
from __future__ import annotations

from functools import wraps
from types import SimpleNamespace

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import Length, Optional

import content
from elearn import policy
from elearn.community import panels as community
from elearn.courses import catalog
from elearn.courses.models import Course
from elearn.errors import NotFound, ServiceError
from elearn.extensions import db
from elearn.http.errors import error_response, status_for
from elearn.http.forms import Form
from elearn.http.schemas import int_arg, json_body
from elearn.readings import services as readings
from elearn.readings.schemas import PositionReport
from elearn.search import services as search
from elearn.study import services as study

bp = Blueprint("readings", __name__, url_prefix="/readings")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = [("readings.index", _l("阅读材料"), None)]

ACCEPT = ",".join(sorted(content.SUPPORTED_FORMATS))


class ReadingUploadForm(Form):
    file = FileField(_l("文件"), validators=[FileRequired(_l("请选择要上传的文件。"))],
                     render_kw={"accept": ACCEPT})
    title = StringField(_l("标题（留空则取文件中的标题）"), validators=[Optional(), Length(max=300)])
    source_kind = SelectField(_l("资料类型"))
    course_id = SelectField(_l("关联课程（可选）"), coerce=int)
    submit = SubmitField(_l("上传"))

    def __init__(self, *args, courses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.source_kind.choices = [(k, str(v)) for k, v in policy.READING_SOURCE_KINDS.items()]
        self.course_id.choices = [(0, _("不关联"))] + [(c.id, c.title) for c in courses]


class AttachForm(Form):
    course_id = SelectField(_l("课程"), coerce=int)
    submit = SubmitField(_l("关联到课程"))


def editor_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not readings.can_upload(current_user):
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def _reading_or_404(reading_id: int):
    try:
        return readings.get_visible(current_user, reading_id)
    except NotFound:
        abort(404)


def _course_or_404(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None or not catalog.can_view_course(current_user, course):
        abort(404)
    return course


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


@bp.route("/")
@login_required
def index():
    """The readings the user may open, newest first."""
    rows = [{"id": r.id, "title": r.title, "kind": policy.READING_SOURCE_KINDS.get(r.source_kind, r.source_kind),
             "minutes": int(r.estimated_minutes), "chars": r.chars,
             "manage": readings.can_manage(current_user, r)} for r in readings.visible_readings(current_user)]
    return render_template("readings/index.html", rows=rows, can_upload=readings.can_upload(current_user))


@bp.route("/upload", methods=["GET", "POST"])
@editor_required
def upload():
    """Upload a reading file (parsed before anything is stored); answers JSON to the progress-bar script."""
    courses = readings.editable_courses(current_user)
    form = ReadingUploadForm(courses=courses)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            course = None
            if form.course_id.data:
                course = db.session.get(Course, form.course_id.data)
            data = form.file.data.read(policy.READING_MAX_BYTES + 1)
            try:
                reading = readings.upload(current_user, data, form.file.data.filename or "", title=form.title.data,
                                          source_kind=form.source_kind.data, course=course)
            except ServiceError as exc:
                form.file.errors.append(exc.message)
                status = status_for(exc)
            else:
                flash(_("已上传阅读材料：%(title)s", title=reading.title), "success")
                target = url_for("readings.manage", reading_id=reading.id)
                if _wants_json():
                    return jsonify({"redirect": target})
                return redirect(target)
        else:
            status = 400
        if _wants_json():
            errors = [str(e) for f in form for e in f.errors]
            return jsonify({"error": {"code": "invalid", "message": " ".join(errors) or _("请求无效。")}}), status
    return render_template("readings/upload.html", form=form, max_mb=policy.READING_MAX_BYTES // (1024 * 1024),
                           accept=ACCEPT), status


@bp.route("/<int:reading_id>")
@login_required
def view(reading_id: int):
    """The reader: table of contents, paragraphs with anchors, search terms marked, resume offer."""
    return _reader(_reading_or_404(reading_id), offline=False)


@bp.route("/<int:reading_id>/offline-copy")
@login_required
def offline_copy(reading_id: int):
    """The reader as saved for offline reading (static/js/offline.js stores it under the reading's own address):
    the text, contents and resume offer, without what needs a network (find, notes, discussion) and without
    reading-time reports — time read offline is not credited, and the page says so."""
    return _reader(_reading_or_404(reading_id), offline=True)


def _reader(reading, offline: bool) -> str:
    parsed = readings.load(reading)
    query = "" if offline else request.args.get("q", "").strip()
    headings = [SimpleNamespace(id=s.id, text=s.title) for s in parsed.sections if s.title]
    marked = search.highlight_paragraphs([*headings, *parsed.paragraphs], query)
    sections = [{"id": s.id, "title": s.title, "level": s.level, "html": marked.get(s.id),
                 "paragraphs": [{"id": p.id, "text": p.text, "html": marked.get(p.id)} for p in s.paragraphs]}
                for s in parsed.sections]
    toc = [{"id": s["id"], "title": s["title"], "level": s["level"]} for s in sections if s["title"]]
    last = readings.last_position(current_user, reading)
    in_order = [i for s in parsed.sections for i in ([s.id] if s.title else []) + [p.id for p in s.paragraphs]]
    first_mark = next((anchor for anchor in in_order if anchor in marked), None)
    return render_template(
        "readings/view.html", offline=offline,
        reading={"id": reading.id, "title": reading.title, "minutes": int(reading.estimated_minutes),
                 "chars": reading.chars, "manage": readings.can_manage(current_user, reading)},
        sections=sections, toc=toc, query=query, marked_count=len(marked), first_mark=first_mark,
        last=last if last and last != "p-1" else None, credit=None if offline else _reading_credit(reading),
        community=None if offline else community.reading_panel(current_user, reading,
                                                               [(p.id, p.text) for p in parsed.paragraphs]))


def _reading_credit(reading) -> dict | None:
    """The member's reading-time state for the reader, or None when no visible course carries the reading
    (then nothing can be credited and the page reports nothing)."""
    return study.reader_credit(current_user, reading)


@bp.route("/<int:reading_id>/position", methods=["POST"])
@login_required
def save_position(reading_id: int):
    """Remember the paragraph the reader reached (JSON ``{"paragraph": "p-12"}``, header X-CSRFToken)."""
    reading = _reading_or_404(reading_id)
    try:
        paragraph = json_body(PositionReport, "bad_position").paragraph
        readings.save_position(current_user, reading, paragraph)
    except ServiceError as exc:
        db.session.rollback()
        return error_response(exc)
    return jsonify({"paragraph": paragraph})


@bp.route("/<int:reading_id>/manage", methods=["GET", "POST"])
@editor_required
def manage(reading_id: int):
    """Details of a reading and the courses it is attached to; attach it to a course the user may edit."""
    reading = _reading_or_404(reading_id)
    attached = readings.courses_of(reading)
    attached_ids = {c.id for c in attached}
    form = AttachForm()
    form.course_id.choices = [(c.id, c.title) for c in readings.editable_courses(current_user)
                              if c.id not in attached_ids]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            course = _course_or_404(form.course_id.data)
            try:
                readings.attach(current_user, reading, course)
            except ServiceError as exc:
                form.course_id.errors.append(exc.message)
                status = status_for(exc)
            else:
                flash(_("已关联到课程：%(title)s", title=course.title), "success")
                return redirect(url_for("readings.manage", reading_id=reading.id))
        else:
            status = 400
    courses = [{"id": c.id, "title": c.title,
                "can_detach": catalog.can_edit_course(current_user, c) or readings.can_manage(current_user, reading)}
               for c in attached]
    return render_template(
        "readings/manage.html", form=form, courses=courses,
        reading={"id": reading.id, "title": reading.title, "filename": reading.filename,
                 "kind": policy.READING_SOURCE_KINDS.get(reading.source_kind, reading.source_kind),
                 "chars": reading.chars, "minutes": int(reading.estimated_minutes),
                 "manage": readings.can_manage(current_user, reading)}), status


@bp.route("/<int:reading_id>/detach/<int:course_id>", methods=["POST"])
@editor_required
def detach(reading_id: int, course_id: int):
    """Remove the reading from a course."""
    reading = _reading_or_404(reading_id)
    course = _course_or_404(course_id)
    readings.detach(current_user, reading, course)
    flash(_("已取消关联：%(title)s", title=course.title), "success")
    back_to_course = url_for("readings.course", course_id=course.id)
    return redirect(back_to_course if request.form.get("next") == back_to_course
                    else url_for("readings.manage", reading_id=reading.id))


@bp.route("/<int:reading_id>/delete", methods=["POST"])
@editor_required
def delete(reading_id: int):
    """Delete a reading (its uploader or a site admin)."""
    reading = _reading_or_404(reading_id)
    if not readings.can_manage(current_user, reading):
        abort(403)
    title = reading.title
    readings.delete_reading(current_user, reading)
    flash(_("已删除阅读材料：%(title)s", title=title), "success")
    return redirect(url_for("readings.index"))


@bp.route("/courses/<int:course_id>")
@login_required
def course(course_id: int):
    """The readings of one course in order; editors of the course can reorder them."""
    course = _course_or_404(course_id)
    editable = catalog.can_edit_course(current_user, course)
    rows = [{"id": r.id, "title": r.title, "minutes": int(r.estimated_minutes)}
            for r in readings.course_readings(course)]
    return render_template("readings/course.html", course={"id": course.id, "title": course.title},
                           rows=rows, editable=editable)


@bp.route("/courses/<int:course_id>/move/<int:reading_id>", methods=["POST"])
@login_required
def move(course_id: int, reading_id: int):
    """Move a reading up (``delta=-1``) or down (``delta=1``) within a course."""
    course = _course_or_404(course_id)
    reading = _reading_or_404(reading_id)
    delta = int_arg(request.form, "delta", lo=-1000, hi=1000)
    if delta not in (-1, 1):
        abort(400)
    readings.move(current_user, reading, course, delta)
    return redirect(url_for("readings.course", course_id=course.id))
