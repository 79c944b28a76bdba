"""The analytics API (``/api/v1/analytics``): the organisation dashboard's figures as data, from the same
service as the page (elearn.analytics.dashboard: a snapshot for large subtrees), for admins of the subtree."""
from __future__ import annotations

from typing import Any

from flask import Response
from flask_login import current_user

from elearn.analytics import dashboard as analytics
from elearn.analytics.schemas import Dashboard, SnapshotState
from elearn.auth import tokens
from elearn.http.api import api_blueprint, operation
from elearn.http.paging import etagged

bp = api_blueprint("analytics_api", __name__)


def _state(snap: Any) -> SnapshotState | None:
    return SnapshotState(id=snap.id, status=snap.status, progress=snap.progress) if snap is not None else None


def _dashboard(org_id: int | None) -> Response:
    root = tokens.admin_reach(current_user)
    org = tokens.reachable_org(current_user, org_id) if org_id is not None else (
        root if root is not None else analytics.get_org(current_user, None))
    data = analytics.dashboard(current_user, org)
    data.pop("_source", None)
    data.pop("breadcrumbs", None)
    pending = _state(data.pop("pending", None))
    out = Dashboard.model_validate({**data, "status": "ready" if "summary" in data else "pending",
                                    "pending": pending})
    return etagged(out)


@operation(bp, "/analytics/orgs/<int:org_id>", operation_id="getOrganisationFigures", response=Dashboard,
           scope="admin", etag=True, errors={404: "no such organisation within reach"},
           summary="The dashboard figures of an organisation's subtree (admins)")
def org_figures(org_id: int) -> Response:
    """Members on pace, hours by child organisation, sector and month, series completions, members at risk."""
    return _dashboard(org_id)


@operation(bp, "/analytics", operation_id="getMyFigures", response=Dashboard, scope="admin", etag=True,
           summary="The dashboard figures of the caller's own subtree (the token's limit, if any) (admins)")
def my_figures() -> Response:
    """As /analytics/orgs/{id} for the organisation the caller administers (a site admin: the first top-level)."""
    return _dashboard(None)
