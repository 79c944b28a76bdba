"""Organisation administration: the tree, members, transfers, the audit log. Org admins see their subtree."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from elearn.extensions import db
from elearn.models import Organisation, User
from elearn.models.study import StudyCredit
from elearn.policy import AUDIT_ACTIONS, AUDIT_PAGE_SIZE
from elearn.services import ServiceError, audit, ledger, orgs, users
from elearn.web.forms import MemberForm, OrganisationForm, TransferForm
from elearn.web.access import ADMINS, admin_required, managed_org_choices as _org_choices

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZE = 50
CREDITS_SHOWN = 50  # newest ledger entries on the member page (all with ?credits=all)
NAV = [("admin.organisations", _l("组织管理"), ADMINS), ("admin.members", _l("党员管理"), ADMINS)]


def _all_org_choices(exclude: int | None = None):
    rows = db.session.execute(select(Organisation.id, Organisation.name, Organisation.path)
                              .order_by(Organisation.path)).all()
    return [(oid, ("· " * (path.count("/") - 2)) + name) for oid, name, path in rows if oid != exclude]


def _member_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not users.can_view(current_user, user):
        abort(404)  # not 403: do not confirm that an id exists outside one's subtree
    return user


@bp.route("/", methods=["GET", "POST"])
@admin_required
def organisations():
    """The organisation tree the admin manages, with member counts and a form to add a sub-organisation."""
    managed = orgs.managed_orgs(current_user)
    form = OrganisationForm()
    status = 200
    if request.method == "POST":
        parent_id = request.form.get("parent_id", type=int)
        parent = db.session.get(Organisation, parent_id) if parent_id else None
        if parent_id and parent is None:
            abort(404)
        if form.validate():
            try:
                org = orgs.create(current_user, name=form.name.data, kind=form.kind.data, sector=form.sector.data,
                                  parent=parent, county_level_or_above=form.county_level_or_above.data)
            except ServiceError as exc:
                form.name.errors.append(exc.message)
                status = exc.status
            else:
                flash(_("已创建组织：%(name)s", name=org.name), "success")
                return redirect(url_for("admin.organisations"))
        else:
            status = 400
    counts = dict(db.session.execute(
        select(User.organisation_id, func.count()).where(User.active.is_(True)).group_by(User.organisation_id)).all())
    rows = [{"org": o, "members": counts.get(o.id, 0)} for o in managed]
    return render_template("admin/organisations.html", rows=rows, form=form), status


@bp.route("/members")
@admin_required
def members():
    """Members visible to the admin (their subtree, incl. transferred-in and -out), searchable, paged."""
    q = request.args.get("q", "").strip()
    org_id = request.args.get("org", type=int)
    org = None
    if org_id:
        org = db.session.get(Organisation, org_id)
        if org is None or not orgs.can_manage(current_user, org):
            abort(404)
    page = max(request.args.get("page", 1, type=int), 1)
    stmt = users.visible_members_stmt(current_user, org, q)
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    return render_template("admin/members.html", members=rows, q=q, org=org, page=page, total=total,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), orgs=_org_choices())


@bp.route("/members/new", methods=["GET", "POST"])
@admin_required
def new_member():
    """Create a member (or lecturer, or admin) in an organisation of the admin's subtree."""
    form = MemberForm(org_choices=_org_choices(), allow_site_admin=current_user.role == "site_admin")
    status = 200
    if form.validate_on_submit():
        org = db.session.get(Organisation, form.organisation_id.data)
        try:
            if not form.password.data:
                raise ServiceError(_("请设置初始密码。"), "password_required")
            user = users.create(current_user, username=form.username.data, name=form.name.data,
                                password=form.password.data, organisation=org, role=form.role.data,
                                category=form.category.data, exempt=form.exempt.data,
                                exempt_reason=form.exempt_reason.data, phone=form.phone.data,
                                email=form.email.data)
        except ServiceError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            status = exc.status
        else:
            flash(_("已创建用户：%(name)s", name=user.name), "success")
            return redirect(url_for("admin.member", user_id=user.id))
    elif request.method == "POST":
        status = 400
    return render_template("admin/member_form.html", form=form, member=None), status


@bp.route("/members/<int:user_id>", methods=["GET", "POST"])
@admin_required
def member(user_id: int):
    """View and edit one member: profile, role, category, exemption, active flag; history of memberships."""
    user = _member_or_404(user_id)
    manageable = orgs.can_manage(current_user, user.organisation)
    form = MemberForm(obj=user,
                      allow_site_admin=current_user.role == "site_admin")
    del form.password, form.username, form.organisation_id
    status = 200
    if request.method == "POST":
        if not manageable:
            abort(403)
        if form.validate():
            try:
                users.update(current_user, user, name=form.name.data, phone=form.phone.data or None,
                             email=form.email.data or None, role=form.role.data, category=form.category.data,
                             exempt=form.exempt.data, exempt_reason=form.exempt_reason.data or None)
            except ServiceError as exc:
                db.session.rollback()
                form.form_errors.append(exc.message)
                status = exc.status
            else:
                flash(_("已保存。"), "success")
                return redirect(url_for("admin.member", user_id=user.id))
        else:
            status = 400
    transfer_form = TransferForm()
    transfer_form.to_org.choices = _all_org_choices(exclude=user.organisation_id)
    credits = list(reversed(ledger.rows(user))) if manageable else []
    shown = credits if request.args.get("credits") == "all" else credits[:CREDITS_SHOWN]
    return render_template("admin/member_form.html", form=form, member=user, manageable=manageable,
                           transfer=transfer_form, credits=shown, credits_total=len(credits),
                           corrected=ledger.corrected_ids(user), total_hours=ledger.total_hours(user)), status


@bp.route("/members/<int:user_id>/credits/<int:entry_id>/correct", methods=["POST"])
@admin_required
def correct_credit(user_id: int, entry_id: int):
    """Cancel a wrongly recorded study-hours entry with a correction (the original stays in the ledger)."""
    user = _member_or_404(user_id)
    entry = db.session.get(StudyCredit, entry_id)
    if entry is None or entry.user_id != user.id:
        abort(404)
    try:
        ledger.correct(current_user, entry_id, request.form.get("note", ""))
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("已更正：%(t)s（%(h)s 学时）", t=entry.title, h=f"{-entry.hours:+g}"), "success")
    return redirect(url_for("admin.member", user_id=user.id) + "#credits")


@bp.route("/members/<int:user_id>/active", methods=["POST"])
@admin_required
def set_active(user_id: int):
    """Deactivate or reactivate an account; its records are kept."""
    user = _member_or_404(user_id)
    users.update(current_user, user, active=request.form.get("active") == "1")
    flash(_("已更新账号状态。"), "success")
    return redirect(url_for("admin.member", user_id=user.id))


@bp.route("/members/<int:user_id>/transfer", methods=["POST"])
@admin_required
def transfer(user_id: int):
    """Transfer a member to another organisation, or record them as a mobile member of an inflow one."""
    user = _member_or_404(user_id)
    form = TransferForm()
    # Any organisation may receive a transfer; the admin must manage the outflow or the inflow side.
    form.to_org.choices = _all_org_choices()
    if not form.validate_on_submit():
        flash(_("请选择转入组织。"), "error")
        return redirect(url_for("admin.member", user_id=user.id))
    to_org = db.session.get(Organisation, form.to_org.data)
    try:
        users.transfer(current_user, user, to_org, on=form.on.data, mobile=form.mobile.data, note=form.note.data)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("已完成组织关系转接。"), "success")
    return redirect(url_for("admin.member", user_id=user.id))


AUDIT_FILTERS = ("action", "who", "since", "until")
AUDIT_EXPORT_MAX = 50_000  # rows in an export of the audit log


def audit_query_from_args() -> audit.AuditQuery:
    """The audit log's filters from the query string (invalid dates are ignored)."""
    def day(name):
        try:
            return date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return None
    return audit.AuditQuery(action=request.args.get("action", "")[:60], who=request.args.get("who", "")[:100],
                            since=day("since"), until=day("until"))


@bp.route("/audit")
@admin_required
def audit_log():
    """The audit log, filtered and paged: site admins see all, org admins the actions of actors in their
    subtree."""
    query = audit_query_from_args()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows = audit.search(current_user, query, offset=(page - 1) * AUDIT_PAGE_SIZE, limit=AUDIT_PAGE_SIZE + 1)
    args = {k: request.args[k] for k in AUDIT_FILTERS if request.args.get(k)}
    return render_template("admin/audit.html", rows=rows[:AUDIT_PAGE_SIZE], has_next=len(rows) > AUDIT_PAGE_SIZE,
                           page=page, query=query, args=args, actions=AUDIT_ACTIONS, changes=audit.changes,
                           export_max=AUDIT_EXPORT_MAX)
