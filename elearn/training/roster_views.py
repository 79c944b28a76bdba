"""The lecturer roster (师资库): search, add and edit lecturers within the admin's subtree."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from elearn.access import ADMINS, admin_required
from elearn.errors import NotFound
from elearn.extensions import db
from elearn.http.forms import Form, MultiCheckboxField, attempt, flash_and_redirect, submit
from elearn.http.schemas import int_arg
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation
from elearn.policy import CONTENT_CATEGORIES, LECTURER_STATUS_LABELS, MEETINGS
from elearn.training import roster as lecturers
from elearn.training.models import Lecturer

bp = Blueprint("roster", __name__, url_prefix="/roster")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV = [("roster.index", _l("师资库"), ADMINS)]


class LecturerForm(Form):
    name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写讲师姓名。")), Length(max=100)])
    title = StringField(_l("职务/职称"), validators=[Optional(), Length(max=100)])
    organisation_id = SelectField(_l("所在组织"), coerce=int)
    fields = StringField(_l("擅长领域（用顿号分隔）"), validators=[Optional(), Length(max=300)])
    categories = MultiCheckboxField(_l("可讲授的内容类别"))
    status = SelectField(_l("状态"))
    phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=30)])
    bio = TextAreaField(_l("简介"), validators=[Optional(), Length(max=4000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_id.choices = [(o.id, ("· " * o.depth) + o.name) for o in orgs.managed_orgs(current_user)]
        self.categories.choices = [(k, str(v)) for k, v in CONTENT_CATEGORIES.items()]
        self.status.choices = [(k, str(v)) for k, v in LECTURER_STATUS_LABELS.items()]


@bp.route("/")
@admin_required
def index():
    """Search the roster by words (name, title, fields, organisation), content category and status."""
    q = request.args.get("q", "").strip()[:100]
    category = request.args.get("category") or None
    status = request.args.get("status") or None
    if (category and category not in CONTENT_CATEGORIES) or (status and status not in LECTURER_STATUS_LABELS):
        abort(400)
    page = int_arg(request.args, "page", 1) or 1
    rows, total = lecturers.search(current_user, q=q, category=category, status=status, page=page)
    pages = max((total + lecturers.PAGE_SIZE - 1) // lecturers.PAGE_SIZE, 1)
    listing = [{"id": r.id, "name": r.name, "title": r.title, "org": r.organisation.name, "fields": r.fields,
                "categories": [str(CONTENT_CATEGORIES[c]) for c in lecturers.category_codes(r)
                               if c in CONTENT_CATEGORIES],
                "status": r.status, "status_label": str(LECTURER_STATUS_LABELS.get(r.status, r.status))}
               for r in rows]
    return render_template("training/roster/index.html", rows=listing, total=total, q=q, category=category,
                           status=status, page=page, pages=pages, categories=CONTENT_CATEGORIES,
                           statuses=LECTURER_STATUS_LABELS)


@bp.route("/new", methods=["GET", "POST"], defaults={"lecturer_id": None})
@bp.route("/<int:lecturer_id>", methods=["GET", "POST"])
@admin_required
def edit(lecturer_id: int | None):
    """Add a lecturer to the roster or edit one."""
    lec = lecturers.get(current_user, lecturer_id) if lecturer_id else None
    form = LecturerForm(obj=lec)
    if lec is not None and request.method == "GET":
        form.categories.data = lecturers.category_codes(lec)

    def save() -> Lecturer:
        org = db.session.get(Organisation, form.organisation_id.data)
        if org is None:
            raise NotFound(_("组织不存在。"))
        return lecturers.save(current_user, lec, name=form.name.data, organisation=org, title=form.title.data,
                              fields=form.fields.data, categories=form.categories.data or [],
                              status=form.status.data, phone=form.phone.data, bio=form.bio.data)

    done = submit(form, save, not_found_status=404, done=lambda saved: flash_and_redirect(
        _("已保存：%(n)s", n=saved.name), url_for("roster.index")))
    extra = {}
    if lec is not None:
        extra = {"record": lecturers.account_record(lec), "history": lecturers.status_history(lec),
                 "accounts": lecturers.linkable_accounts(current_user, lec), "statuses": LECTURER_STATUS_LABELS,
                 "meeting_kinds": {k: v.label for k, v in MEETINGS.kinds.items()}}
    return done.response or (render_template("training/roster/form.html", form=form, lecturer=lec, **extra),
                             done.status)


@bp.route("/<int:lecturer_id>/account", methods=["POST"])
@admin_required
def link_account(lecturer_id: int):
    """Link the entry to a lecturer account of the subtree (or unlink it)."""
    lec = lecturers.get(current_user, lecturer_id)
    raw = request.form.get("user_id", "")
    if raw and not raw.isdigit():
        abort(400)
    attempt(lambda: lecturers.link_account(current_user, lec, int(raw) if raw else None),
            success=_("已更新关联账号。"))
    return redirect(url_for("roster.edit", lecturer_id=lec.id) + "#account")
