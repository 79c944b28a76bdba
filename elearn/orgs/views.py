"""Organisation administration: the tree, members, their study-hour entries and transfers. Org admins see their
subtree."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from elearn.access import ADMINS, Role, admin_required
from elearn.auth import reset, two_factor
from elearn.errors import ServiceError
from elearn.extensions import db
from elearn.http.forms import attempt, flash_and_redirect, submit
from elearn.http.schemas import int_arg
from elearn.ledger import services as ledger
from elearn.ledger.models import StudyCredit
from elearn.orgs import members as users
from elearn.orgs import services as orgs
from elearn.orgs.forms import MemberForm, OrganisationForm, TransferForm
from elearn.orgs.models import Organisation, User
from elearn.security import masking
from elearn.study import services as study

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
    parent_id = int_arg(request.form, "parent_id") if request.method == "POST" else None
    parent = db.session.get(Organisation, parent_id) if parent_id else None
    if parent_id and parent is None:
        abort(404)
    done = submit(form, lambda: orgs.create(current_user, name=form.name.data, kind=form.kind.data,
                                             sector=form.sector.data, parent=parent,
                                             county_level_or_above=form.county_level_or_above.data),
                  error_field=form.name,
                  done=lambda org: flash_and_redirect(_("已创建组织：%(name)s", name=org.name),
                                                      url_for("admin.organisations")))
    if done.response is not None:
        return done.response
    counted = db.session.execute(
        select(User.organisation_id, func.count()).where(User.active.is_(True)).group_by(User.organisation_id))
    counts: dict[int, int] = dict(counted.tuples().all())
    rows = [{"org": o, "members": counts.get(o.id, 0)} for o in managed]
    return render_template("orgs/organisations.html", rows=rows, form=form), done.status


@bp.route("/members")
@admin_required
def members():
    """Members visible to the admin (their subtree, incl. transferred-in and -out), searchable, paged."""
    q = request.args.get("q", "").strip()
    org_id = int_arg(request.args, "org")
    org = None
    if org_id:
        org = db.session.get(Organisation, org_id)
        if org is None or not orgs.can_manage(current_user, org):
            abort(404)
    page = int_arg(request.args, "page", 1) or 1
    stmt = users.visible_members_stmt(current_user, org, q)
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    return render_template("orgs/members.html", members=rows, q=q, org=org, page=page, total=total,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
                           orgs=orgs.managed_org_choices(current_user))


@bp.route("/members/new", methods=["GET", "POST"])
@admin_required
def new_member():
    """Create a member (or lecturer, or admin) in an organisation of the admin's subtree."""
    form = MemberForm(org_choices=orgs.managed_org_choices(current_user),
                      allow_site_admin=current_user.role == Role.SITE_ADMIN)

    def create() -> User:
        if not form.password.data:
            raise ServiceError(_("请设置初始密码。"), "password_required")
        return users.create(current_user, username=form.username.data, name=form.name.data,
                            password=form.password.data,
                            organisation=orgs.managed_org(current_user, form.organisation_id.data),
                            role=form.role.data, category=form.category.data, exempt=form.exempt.data,
                            exempt_reason=form.exempt_reason.data, phone=form.phone.data, email=form.email.data,
                            party_joined_on=form.party_joined_on.data)

    done = submit(form, create, not_found_status=404,
                  done=lambda user: flash_and_redirect(_("已创建用户：%(name)s", name=user.name),
                                                       url_for("admin.member", user_id=user.id)))
    return done.response or (render_template("orgs/member_form.html", form=form, member=None), done.status)


@bp.route("/members/<int:user_id>", methods=["GET", "POST"])
@admin_required
def member(user_id: int):
    """View and edit one member: profile, role, category, exemption, active flag; history of memberships."""
    user = _member_or_404(user_id)
    manageable = orgs.can_manage(current_user, user.organisation)
    form = MemberForm(obj=user,
                      allow_site_admin=current_user.role == Role.SITE_ADMIN)
    del form.password, form.username, form.organisation_id
    if request.method == "POST" and not manageable:
        abort(403)
    if not masking.may_see_personal(current_user, user):
        # An admin of an organisation the member has left sees the record, not the contact details.
        for field in (form.phone, form.email, form.exempt_reason):
            field.data = masking.mask(field.name, field.data)
    done = submit(form, lambda: users.update(
        current_user, user, name=form.name.data, phone=form.phone.data or None, email=form.email.data or None,
        role=form.role.data, category=form.category.data, exempt=form.exempt.data,
        exempt_reason=form.exempt_reason.data or None, party_joined_on=form.party_joined_on.data),
        not_found_status=404,
        done=lambda _user: flash_and_redirect(_("已保存。"), url_for("admin.member", user_id=user.id)))
    if done.response is not None:
        return done.response
    transfer_form = TransferForm()
    transfer_form.to_org.choices = _all_org_choices(exclude=user.organisation_id)
    credits = list(reversed(ledger.rows(user))) if manageable else []
    shown = credits if request.args.get("credits") == "all" else credits[:CREDITS_SHOWN]
    return render_template("orgs/member_form.html", form=form, member=user, manageable=manageable,
                           transfer=transfer_form, credits=shown, credits_total=len(credits),
                           corrected=ledger.corrected_ids(user), total_hours=ledger.total_hours(user),
                           refusals=study.refusals_of(user) if manageable else [],
                           two_factor=two_factor.admin_view(current_user, user) if manageable else None,
                           may_set_temporary=manageable and reset.may_set_temporary(current_user, user)), done.status


@bp.route("/members/<int:user_id>/credits/<int:entry_id>/correct", methods=["POST"])
@admin_required
def correct_credit(user_id: int, entry_id: int):
    """Cancel a wrongly recorded study-hours entry with a correction (the original stays in the ledger)."""
    user = _member_or_404(user_id)
    entry = db.session.get(StudyCredit, entry_id)
    if entry is None or entry.user_id != user.id:
        abort(404)
    title, hours = entry.title, entry.hours
    attempt(lambda: ledger.correct(current_user, entry_id, request.form.get("note", "")),
            success=_("已更正：%(t)s（%(h)s 学时）", t=title, h=f"{-hours:+g}"))
    return redirect(url_for("admin.member", user_id=user.id) + "#credits")


@bp.route("/members/<int:user_id>/active", methods=["POST"])
@admin_required
def set_active(user_id: int):
    """Deactivate or reactivate an account; its records are kept."""
    user = _member_or_404(user_id)
    users.update(current_user, user, active=request.form.get("active") == "1")
    flash(_("已更新账号状态。"), "success")
    return redirect(url_for("admin.member", user_id=user.id))


@bp.route("/members/<int:user_id>/temporary-password", methods=["POST"])
@admin_required
def temporary_password(user_id: int):
    """Set a temporary password for a member who forgot theirs; shown once, on this response only (never in a
    flash, which travels in the cookie)."""
    user = _member_or_404(user_id)
    temporary = attempt(lambda: reset.set_temporary(current_user, user))
    if temporary is None:
        return redirect(url_for("admin.member", user_id=user.id)), 303
    response = make_response(render_template("auth/reset_temporary.html", member=user, temporary=temporary))
    response.headers["Cache-Control"] = "no-store"
    return response


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
    if to_org is None:
        abort(404)
    attempt(lambda: users.transfer(current_user, user, to_org, on=form.on.data, mobile=form.mobile.data,
                                   note=form.note.data), success=_("已完成组织关系转接。"))
    return redirect(url_for("admin.member", user_id=user.id))
