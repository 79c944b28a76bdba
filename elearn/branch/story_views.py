"""学习身边榜样: members read the model stories published to them; org admins write, publish and unpublish them
and see how many members read each."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from elearn.access import ADMINS, admin_required
from elearn.branch import stories
from elearn.errors import NotFound
from elearn.http.forms import Form, MultiCheckboxField, attempt, flash_and_redirect, submit
from elearn.orgs import services as orgs
from elearn.policy import BRANCH_SHOWCASE, MEMBER_CATEGORIES, SECTORS
from elearn.storage import get_storage

bp = Blueprint("stories", __name__, url_prefix="/models")

NAV = [("stories.index", _l("身边榜样"), None)]


class StoryForm(Form):
    organisation_id = SelectField(_l("发布组织"), coerce=int)
    title = StringField(_l("标题"), validators=[DataRequired(_l("请填写标题。")),
                                              Length(max=BRANCH_SHOWCASE.title_max)])
    person_name = StringField(_l("榜样姓名"), validators=[DataRequired(_l("请填写榜样姓名。")), Length(max=100)])
    person_org = StringField(_l("所在单位"), validators=[Optional(), Length(max=200)])
    body = TextAreaField(_l("事迹正文（支持 Markdown）"), validators=[
        DataRequired(_l("请填写事迹正文。")), Length(max=BRANCH_SHOWCASE.story_body_max_chars)])
    photo = FileField(_l("照片（JPEG 或 PNG，可选）"))
    sectors = MultiCheckboxField(_l("仅限这些领域（可选）"))
    categories = MultiCheckboxField(_l("仅限这些党员类别（可选）"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_id.choices = [(o.id, ("· " * o.depth) + o.name) for o in orgs.managed_orgs(current_user)]
        self.sectors.choices = [(k, str(v)) for k, v in SECTORS.items()]
        self.categories.choices = [(k, str(v)) for k, v in MEMBER_CATEGORIES.items()]


@bp.get("/")
@login_required
def index():
    """学习身边榜样: the stories published to me, newest first."""
    return render_template("branch/stories.html", stories=stories.stories_for(current_user),
                           may_publish=current_user.role in ADMINS)


@bp.get("/<int:story_id>")
@login_required
def story(story_id: int):
    """One story (my first reading is counted)."""
    try:
        found = stories.read_story(current_user, story_id)
    except NotFound:
        abort(404)
    return render_template("branch/story.html", story=found)


@bp.get("/<int:story_id>/photo")
@login_required
def photo(story_id: int):
    """The story's photo, for those who may read the story."""
    try:
        key, mimetype = stories.photo_file(current_user, story_id)
    except NotFound:
        abort(404)
    response = send_file(get_storage().path(key), mimetype=mimetype, max_age=3600)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/manage")
@admin_required
def manage():
    """The stories of my organisations, with their read counts."""
    return render_template("branch/story_manage.html", rows=stories.managed_stories(current_user))


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    """Write and publish a story."""
    form = StoryForm()

    def save():
        upload = request.files.get("photo")
        data = upload.read() if upload is not None and upload.filename else None
        return stories.publish_story(current_user, orgs.get(form.organisation_id.data),
                                     person_name=form.person_name.data, person_org=form.person_org.data or "",
                                     title=form.title.data, body=form.body.data, photo=data,
                                     sectors=form.sectors.data or [], categories=form.categories.data or [])

    done = submit(form, save, error_field=None, done=lambda s: flash_and_redirect(
        _("已发布：%(t)s", t=s.title), url_for("stories.manage")))
    return done.response or (render_template("branch/story_form.html", form=form), done.status)


@bp.post("/<int:story_id>/unpublish")
@admin_required
def unpublish(story_id: int):
    """Withdraw a story."""
    story = stories.get(story_id)
    attempt(lambda: stories.set_published(current_user, story, False), _("已撤回：%(t)s", t=story.title))
    return redirect(url_for("stories.manage"))


@bp.post("/<int:story_id>/publish")
@admin_required
def republish(story_id: int):
    """Publish a withdrawn story again."""
    story = stories.get(story_id)
    attempt(lambda: stories.set_published(current_user, story, True), _("已发布：%(t)s", t=story.title))
    return redirect(url_for("stories.manage"))
