"""Bulk member import for org admins (into their subtree) and site admins: CSV or Excel, all rows or none,
with a report per rejected row."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    render_template,
    request,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    SelectField,
)

from elearn.access import ADMINS, admin_required
from elearn.errors import ServiceError
from elearn.extensions import db
from elearn.http.errors import status_for
from elearn.http.forms import Form
from elearn.orgs import imports as member_import
from elearn.orgs import services as orgs
from elearn.policy import IMPORT, MEMBER_CATEGORIES

bp = Blueprint("member_import", __name__, url_prefix="/org")

NAV = [("member_import.import_members", _l("批量导入"), ADMINS)]


class ImportForm(Form):
    organisation_id = SelectField(_l("默认导入到组织"), coerce=int)
    file = FileField(_l("CSV 或 Excel（.xlsx）文件"), validators=[FileRequired(_l("请选择文件。"))])


@bp.route("/import", methods=["GET", "POST"])
@admin_required
def import_members():
    """Upload a CSV/XLSX of members; either all rows are imported or none, with a report per rejected row."""
    form = ImportForm()
    form.organisation_id.choices = orgs.managed_org_choices(current_user)
    result, status, error = None, 200, None
    if form.validate_on_submit():
        org = orgs.managed_org(current_user, form.organisation_id.data)
        upload = form.file.data
        data = upload.read(IMPORT.max_bytes + 1)
        try:
            result = member_import.import_members(current_user, org, upload.filename or "", data)
        except ServiceError as exc:
            db.session.rollback()
            error, status = exc.message, status_for(exc)
        else:
            if result.ok:
                flash(_("已导入 %(n)d 名党员。", n=result.imported), "success")
            else:
                status = 422
    elif request.method == "POST":
        status = 400
    return render_template("orgs/import.html", form=form, result=result, error=error,
                           max_rows=IMPORT.max_rows, categories=MEMBER_CATEGORIES), status


@bp.route("/import/template.csv")
@admin_required
def import_template():
    """A CSV with the expected column headings."""
    return Response(member_import.template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=members-template.csv"})
