"""党课开讲啦: members watch the 优秀党课 and their branch's lectures; secretaries record a lecture and upload its
video (the studio's resumable upload client, ``static/js/upload.js``, against the JSON endpoints here);
committees nominate and showcase.

JSON endpoints of the upload (CSRF token in ``X-CSRFToken`` as every write):

* ``POST /lectures/<id>/uploads`` ``{"filename", "size", "sha256"?}`` → 201 ``{"id", "offset", "url", …}``;
* ``GET|HEAD|PUT|DELETE /lectures/uploads/<upload id>`` (``?offset=N`` on PUT) as the studio's uploads;
* ``GET /lectures/<id>/status`` → the live state of the newest video.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from elearn import clock
from elearn.branch import lectures
from elearn.branch.officers import managed_branches, may_manage_branch
from elearn.errors import NotFound, ServiceError
from elearn.extensions import db
from elearn.http.errors import json_error
from elearn.http.forms import Form, attempt, flash_and_redirect, submit
from elearn.http.schemas import int_arg, json_body
from elearn.media import services as media
from elearn.media import uploads
from elearn.media.models import MediaAsset
from elearn.media.upload_json import UploadRequest, upload_json
from elearn.orgs import services as orgs
from elearn.policy import ASSET_STATUS_LABELS, BRANCH_SHOWCASE, CONTENT_CATEGORIES

bp = Blueprint("lectures", __name__, url_prefix="/lectures")

NAV = [("lectures.index", _l("党课开讲啦"), None)]


class LectureForm(Form):
    title = StringField(_l("党课题目"), validators=[DataRequired(_l("请填写党课题目。")),
                                                 Length(max=BRANCH_SHOWCASE.title_max)])
    lecturer_id = SelectField(_l("师资库讲师（可选）"), coerce=int)
    meeting_id = SelectField(_l("所在支部会议（可选）"), coerce=int)
    speaker_name = StringField(_l("主讲人"), validators=[Optional(), Length(max=BRANCH_SHOWCASE.speaker_max)])
    given_on = DateField(_l("授课日期"), validators=[DataRequired(_l("请填写授课日期。"))])
    category = SelectField(_l("内容类别"))
    innovative_theory = BooleanField(_l("属于党的创新理论教育"))


@bp.get("/")
@login_required
def index():
    """The 优秀党课 showcased to me (明星党课) with their ratings, and my branch's lectures."""
    showcased, others = lectures.member_lectures(current_user)
    return render_template("branch/lectures.html", showcased=showcased, others=others,
                           may_record=bool(managed_branches(current_user)),
                           may_nominate=bool(lectures.committee_lectures(current_user)))


@bp.get("/manage")
@login_required
def manage():
    """The secretary's lectures of each branch they run, and the committee's nominations."""
    branches = lectures.branch_lectures(current_user)
    committee = lectures.committee_lectures(current_user)
    if not branches and not committee:
        abort(403)
    return render_template("branch/lecture_manage.html", branches=branches, committee=committee,
                           labels=lectures.LECTURE_STATUS_LABELS, this_year=clock.site_today().year)


@bp.route("/new/<int:org_id>", methods=["GET", "POST"])
@login_required
def new(org_id: int):
    """Record a 党课 given at the branch; its video is uploaded on the next page."""
    org = orgs.get(org_id)
    if not may_manage_branch(current_user, org):
        abort(403)
    form = LectureForm()
    form.lecturer_id.choices = [(0, _("（不选）"))] + [(lec.id, lec.name) for lec in lectures.speakers_for(org)]
    form.meeting_id.choices = [(0, _("（不选）"))] + [
        (m.id, f"{clock.to_site(m.starts_at):%Y-%m-%d} {m.title}") for m in lectures.meetings_for(org)]
    form.category.choices = [(k, str(v)) for k, v in CONTENT_CATEGORIES.items()]
    if request.method == "GET":
        form.category.data = BRANCH_SHOWCASE.lecture_category
        form.given_on.data = clock.site_today()
    done = submit(form, lambda: lectures.record_lecture(
        current_user, org, title=form.title.data, speaker_name=form.speaker_name.data or "",
        lecturer_id=form.lecturer_id.data or None, meeting_id=form.meeting_id.data or None,
        given_on=form.given_on.data, category=form.category.data,
        innovative_theory=form.innovative_theory.data),
        done=lambda lec: flash_and_redirect(_("已登记党课，请上传录像。"), url_for("lectures.upload_page",
                                                                       lecture_id=lec.id)))
    return done.response or (render_template("branch/lecture_form.html", form=form, org=org), done.status)


def _latest_asset(lecture) -> MediaAsset | None:
    return db.session.execute(select(MediaAsset).where(MediaAsset.lesson_id == lecture.lesson_id)
                              .order_by(MediaAsset.id.desc()).limit(1)).scalar_one_or_none()


@bp.get("/<int:lecture_id>/upload")
@login_required
def upload_page(lecture_id: int):
    """The lecture's recording: upload it (resumable) and follow its transcoding."""
    try:
        lecture = lectures.managed_lecture(current_user, lecture_id)
    except NotFound:
        abort(404)
    latest = _latest_asset(lecture)
    return render_template("branch/lecture_upload.html", lecture=lecture, latest=latest,
                           latest_label=str(ASSET_STATUS_LABELS.get(latest.status, latest.status)) if latest else "",
                           status_labels={k: str(v) for k, v in ASSET_STATUS_LABELS.items()},
                           max_upload_mb=current_app.config["ELEARN_MAX_UPLOAD_MB"])


@bp.post("/<int:lecture_id>/uploads")
@upload_json
def create_upload(lecture_id: int):
    """Open (or resume) the upload of the lecture's recording."""
    lecture = lectures.managed_lecture(current_user, lecture_id)
    body = json_body(UploadRequest, "bad_upload")
    upload = uploads.create_upload(current_user, lecture.lesson, filename=body.filename, size=body.size,
                                   sha256=body.sha256 or None)
    data = uploads.describe(upload)
    data["url"] = url_for("lectures.upload", upload_id=upload.id)
    data["status_url"] = url_for("lectures.status", lecture_id=lecture.id)
    return jsonify(data), 201


@bp.route("/uploads/<upload_id>", methods=["GET", "HEAD", "PUT", "DELETE"])
@upload_json
def upload(upload_id: str):
    """Read the offset (GET/HEAD), append a chunk at ``?offset=N`` (PUT), or cancel (DELETE) an upload."""
    session = uploads.get_upload(current_user, upload_id)
    if request.method == "PUT":
        offset = int_arg(request.args, "offset", lo=0, code="offset_required")
        if offset is None:
            raise ServiceError(_("缺少上传位置（offset）。"), "offset_required")
        uploads.append_chunk(current_user, session, offset, request.stream)
        if session.status == "failed":
            asset = db.session.get(MediaAsset, session.asset_id)
            return json_error(422, "upload_failed", (asset.error if asset else None) or _("上传失败。"))
    elif request.method == "DELETE":
        uploads.abort_upload(current_user, session)
    data = uploads.describe(session)
    response = jsonify(data)
    response.headers["Upload-Offset"] = str(data["offset"])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:lecture_id>/status")
@upload_json
def status(lecture_id: int):
    """Live state of the lecture's newest video."""
    lecture = lectures.managed_lecture(current_user, lecture_id)
    asset = _latest_asset(lecture)
    if asset is None:
        raise NotFound(_("视频不存在。"))
    if asset.status in ("queued", "transcoding"):
        media.requeue_stale_assets([asset.id])
        db.session.refresh(asset)
    data = media.asset_state(asset)
    data["label"] = str(ASSET_STATUS_LABELS.get(asset.status, asset.status))
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:lecture_id>/nominate")
@login_required
def nominate(lecture_id: int):
    """A committee above the branch nominates the lecture."""
    lecture = lectures.get(lecture_id)
    attempt(lambda: lectures.nominate(current_user, lecture), _("已推荐：%(t)s", t=lecture.title))
    return redirect(url_for("lectures.manage"))


@bp.post("/<int:lecture_id>/showcase")
@login_required
def showcase(lecture_id: int):
    """A committee showcases a nominated lecture as 优秀党课 of a year."""
    lecture = lectures.get(lecture_id)
    year = int_arg(request.form, "year", lo=1, hi=9999, code="bad_year")
    attempt(lambda: lectures.showcase(current_user, lecture, year or 0),
            _("已评为优秀党课：%(t)s", t=lecture.title))
    return redirect(url_for("lectures.manage"))


@bp.post("/<int:lecture_id>/unshowcase")
@login_required
def unshowcase(lecture_id: int):
    """The committee that showcased the lecture (or one above it) withdraws it from the 优秀党课."""
    lecture = lectures.get(lecture_id)
    attempt(lambda: lectures.withdraw_showcase(current_user, lecture), _("已撤销优秀党课：%(t)s", t=lecture.title))
    return redirect(url_for("lectures.manage"))
