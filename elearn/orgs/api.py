"""The admin API of organisations and members (``/api/v1/orgs``, ``/api/v1/members``): the same rules as the
admin pages (elearn.orgs.views, elearn.orgs.import_views), through the same services, within the caller's
subtree and, for a limited token, the token's."""
from __future__ import annotations

from flask import Response, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from elearn.auth import tokens
from elearn.errors import Forbidden, NotFound, ServiceError
from elearn.extensions import ID_MAX, db
from elearn.http.api import api_blueprint, operation
from elearn.http.paging import envelope, etagged, page_model, paginate
from elearn.http.schemas import int_arg
from elearn.orgs import imports as member_import
from elearn.orgs import members as users
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.orgs.schemas import (
    GeneratedPassword,
    ImportProblem,
    ImportReport,
    MemberCreate,
    MemberDetail,
    MemberOut,
    MemberQuery,
    MembershipOut,
    MemberUpdate,
    OrganisationOut,
    OrgListQuery,
    OrgRef,
)
from elearn.policy import IMPORT
from elearn.security import masking

bp = api_blueprint("orgs_api", __name__)

_ORG_ERRORS = {404: "no such organisation within reach"}
_MEMBER_ERRORS = {404: "no such member within reach"}


# -- organisations ------------------------------------------------------------------------------------------------

def _org_rows(rows: list[Organisation]) -> list[OrganisationOut]:
    ids = [o.id for o in rows]
    children: dict[int | None, int] = dict(db.session.execute(
        select(Organisation.parent_id, func.count()).where(Organisation.parent_id.in_(ids))
        .group_by(Organisation.parent_id)).tuples().all()) if ids else {}
    members: dict[int, int] = dict(db.session.execute(
        select(User.organisation_id, func.count()).where(User.organisation_id.in_(ids), User.active.is_(True))
        .group_by(User.organisation_id)).tuples().all()) if ids else {}
    return [OrganisationOut(id=o.id, name=o.name, kind=o.kind, sector=o.sector, parent_id=o.parent_id,
                            county_level_or_above=o.county_level_or_above, depth=o.depth,
                            children=children.get(o.id, 0), members=members.get(o.id, 0)) for o in rows]


def _org_page(stmt, query: OrgListQuery) -> Response:
    rows, total = paginate(stmt, query)
    return etagged(envelope(OrganisationOut, _org_rows(rows), query, total))


@operation(bp, "/orgs", operation_id="listRootOrganisations", query=OrgListQuery,
           response=page_model(OrganisationOut), scope="admin", etag=True,
           summary="The top of the organisation tree within the caller's reach (admins)")
def list_roots(query: OrgListQuery) -> Response:
    """The organisation the caller administers (or the token is limited to); for a site admin, the top-level
    committees."""
    root = tokens.admin_reach(current_user)
    stmt = select(Organisation).order_by(Organisation.name, Organisation.id)
    stmt = stmt.where(Organisation.id == root.id) if root is not None else stmt.where(Organisation.parent_id.is_(None))
    return _org_page(stmt, query)


@operation(bp, "/orgs/<int:org_id>", operation_id="getOrganisation", response=OrganisationOut, scope="admin",
           errors=_ORG_ERRORS, summary="One organisation within the caller's reach (admins)")
def get_org(org_id: int) -> OrganisationOut:
    """One organisation of the caller's subtree."""
    return _org_rows([tokens.reachable_org(current_user, org_id)])[0]


@operation(bp, "/orgs/<int:org_id>/children", operation_id="listChildOrganisations", query=OrgListQuery,
           response=page_model(OrganisationOut), scope="admin", etag=True, errors=_ORG_ERRORS,
           summary="The organisations directly below one (admins)")
def list_children(org_id: int, query: OrgListQuery) -> Response:
    """The sub-organisations of one organisation of the caller's subtree, by name."""
    org = tokens.reachable_org(current_user, org_id)
    return _org_page(select(Organisation).where(Organisation.parent_id == org.id)
                     .order_by(Organisation.name, Organisation.id), query)


# -- members ------------------------------------------------------------------------------------------------------

def _member_out(user: User, model: type[MemberOut] = MemberOut, **extra) -> MemberOut:
    full = masking.may_see_personal(current_user, user)

    def shown(field: str):
        value = getattr(user, field)
        return value if full else masking.mask(field, value)

    return model(id=user.id, username=user.username, name=user.name, role=str(user.role), category=user.category,
                 exempt=user.exempt, exempt_reason=shown("exempt_reason"), phone=shown("phone"),
                 email=shown("email"), active=user.active, party_joined_on=user.party_joined_on,
                 organisation=OrgRef(id=user.organisation.id, name=user.organisation.name),
                 created_at=user.created_at, **extra)


def _visible_member(user_id: int) -> User:
    """A member the caller may see (as on the member page) and inside the token's limit; 404 otherwise."""
    tokens.admin_reach(current_user)
    user = db.session.get(User, user_id) if 0 < user_id <= ID_MAX else None
    if user is None or not users.can_view(current_user, user) or not tokens.user_within_limit(user):
        raise NotFound(_("用户不存在。"))
    return user


def _detail(user: User) -> MemberDetail:
    manageable = orgs.can_manage(current_user, user.organisation) and tokens.within_limit(user.organisation)
    memberships = [MembershipOut(organisation=OrgRef(id=m.organisation.id, name=m.organisation.name), kind=m.kind,
                                 responsible=m.responsible, started_on=m.started_on, ended_on=m.ended_on)
                   for m in user.memberships]
    return _member_out(user, MemberDetail, manageable=manageable, memberships=memberships)  # type: ignore[return-value]


@operation(bp, "/members", operation_id="listMembers", query=MemberQuery, response=page_model(MemberOut),
           scope="admin", etag=True, invalid_code="bad_query", errors=_ORG_ERRORS,
           summary="Members of the caller's subtree, incl. transferred in and out, filtered and paged (admins)")
def list_members(query: MemberQuery) -> Response:
    """As the members page lists them: current members of the subtree and anyone with a membership in it."""
    root = tokens.admin_reach(current_user)
    org = tokens.reachable_org(current_user, query.org) if query.org is not None else root
    stmt = users.visible_members_stmt(current_user, org, query.q.strip() or None)
    for column, value in ((User.role, query.role), (User.category, query.category), (User.active, query.active),
                          (User.exempt, query.exempt)):
        if value is not None:
            stmt = stmt.where(column == value)
    rows, total = paginate(stmt, query)
    return etagged(envelope(MemberOut, [_member_out(u) for u in rows], query, total))


@operation(bp, "/members/<int:user_id>", operation_id="getMember", response=MemberDetail, scope="admin",
           errors=_MEMBER_ERRORS, summary="One member with their membership history (admins)")
def get_member(user_id: int) -> MemberDetail:
    """A member's record as the member page shows it (contact details masked for an admin of a former
    organisation)."""
    return _detail(_visible_member(user_id))


@operation(bp, "/members", method="POST", operation_id="createMember", body=MemberCreate, response=MemberDetail,
           scope="admin", errors={404: "no such organisation within reach", 403: "role or organisation not granted"},
           summary="Create a member (or lecturer, or admin) in an organisation of the caller's subtree (admins)")
def create_member(body: MemberCreate) -> MemberDetail:
    """Create a user, by the same rules as the new-member page."""
    org = tokens.reachable_org(current_user, body.organisation_id)
    user = users.create(current_user, username=body.username, name=body.name, password=body.password,
                        organisation=org, role=body.role, category=body.category, exempt=body.exempt,
                        exempt_reason=body.exempt_reason, phone=body.phone, email=body.email,
                        party_joined_on=body.party_joined_on)
    return _detail(user)


@operation(bp, "/members/<int:user_id>", method="PATCH", operation_id="updateMember", body=MemberUpdate,
           response=MemberDetail, scope="admin", errors={**_MEMBER_ERRORS, 403: "the caller may see, not change"},
           summary="Change a member's profile, role, category, exemption or active flag (admins)")
def update_member(user_id: int, body: MemberUpdate) -> MemberDetail:
    """Change the given fields, by the same rules as the member page."""
    user = _visible_member(user_id)
    if not tokens.within_limit(user.organisation):
        raise Forbidden(_("您无权管理该组织。"))
    changes = body.model_dump(exclude_unset=True)
    nulls = sorted(k for k, v in changes.items() if v is None and k in MemberUpdate.NOT_NULL)
    if nulls:
        raise ServiceError(_("字段 %(field)s 不能为空。", field=", ".join(nulls)), "invalid_payload")
    return _detail(users.update(current_user, user, **changes))


IMPORT_FORM = {
    "type": "object",
    "required": ["file", "organisation_id"],
    "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": f"CSV or XLSX, at most {IMPORT.max_rows} rows (the template of the import page)"},
        "organisation_id": {"type": "integer", "minimum": 1, "maximum": ID_MAX,
                            "description": "where rows without an organisation go"},
    },
}


@operation(bp, "/members/import", method="POST", operation_id="importMembers", response=ImportReport,
           scope="admin", multipart=IMPORT_FORM,
           errors={400: "no file, or a file that cannot be read", 404: "no such organisation within reach",
                   413: "file too large", 422: "some rows refused: nothing imported (the report says why)"},
           summary="Import members from a CSV/XLSX file: every row or none, with a report per refused row (admins)")
def import_members() -> Response:
    """The import page's upload as an API call: multipart ``file`` and ``organisation_id``."""
    org_id = int_arg(request.form, "organisation_id", code="invalid_payload")
    if org_id is None:
        raise ServiceError(_("请选择导入到的组织（organisation_id）。"), "invalid_payload")
    org = tokens.reachable_org(current_user, org_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ServiceError(_("请选择文件。"), "file_required")
    data = upload.read(IMPORT.max_bytes + 1)
    try:
        result = member_import.import_members(current_user, org, upload.filename, data,
                                              within=tokens.organisation_limit())
    except ServiceError:
        db.session.rollback()
        raise
    report = ImportReport(ok=result.ok, total=result.total, imported=result.imported,
                          problems=[ImportProblem(row=p.row, username=p.username, reasons=p.reasons)
                                    for p in result.problems],
                          generated_passwords=[GeneratedPassword(username=u, password=pw)
                                               for u, pw in result.generated_passwords])
    response = jsonify(report.model_dump(mode="json"))
    response.status_code = 200 if result.ok else 422
    return response

