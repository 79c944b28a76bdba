"""The paging helper and conditional GETs (elearn.http.paging), through a small list route of the test's own."""
import pytest
from pydantic import BaseModel
from sqlalchemy import select

from elearn.http.paging import PageQuery, envelope, etagged, fingerprint_etag, paginate
from elearn.http.schemas import query_args
from elearn.orgs.models import Organisation
from elearn.policy import API_PAGING


class OrgItem(BaseModel):
    id: int
    name: str


@pytest.fixture
def orgs_route(app):
    @app.get("/api/v1/_orgs")
    def list_orgs():
        query = query_args(PageQuery)
        stmt = select(Organisation).order_by(Organisation.id)
        etag = fingerprint_etag(stmt, Organisation.id, query.page, query.per_page)
        rows, total = paginate(stmt, query)
        return etagged(envelope(OrgItem, [OrgItem(id=o.id, name=o.name) for o in rows], query, total), etag)
    return "/api/v1/_orgs"


def test_pages_and_next_link(client, auth, make_user, make_org, orgs_route):
    for i in range(4):
        make_org(name=f"组织{i}")
    auth.login(make_user().username)  # make_user adds a fifth organisation
    first = client.get(orgs_route + "?per_page=2&q=x").get_json()
    assert first["total"] == 5 and first["page"] == 1 and first["per_page"] == 2 and len(first["items"]) == 2
    assert first["next"] == orgs_route + "?per_page=2&q=x&page=2"
    last = client.get(orgs_route + "?per_page=2&page=3").get_json()
    assert len(last["items"]) == 1 and last["next"] is None
    beyond = client.get(orgs_route + "?per_page=2&page=9").get_json()
    assert beyond["items"] == [] and beyond["next"] is None and beyond["total"] == 5


@pytest.mark.parametrize("args", ["per_page=0", f"per_page={API_PAGING.per_page_max + 1}", "page=0", "page=x",
                                  f"page={API_PAGING.page_max + 1}"])
def test_out_of_bounds_paging_is_400(client, auth, make_user, orgs_route, args):
    auth.login(make_user().username)
    r = client.get(f"{orgs_route}?{args}")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_query"


def test_etag_and_304(client, auth, make_user, make_org, orgs_route):
    auth.login(make_user().username)
    r = client.get(orgs_route)
    etag = r.headers["ETag"]
    assert etag.startswith('W/"') and r.headers["Cache-Control"] == "private, no-cache"
    again = client.get(orgs_route, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert client.get(orgs_route, headers={"If-None-Match": 'W/"other", ' + etag}).status_code == 304
    assert client.get(orgs_route + "?per_page=3", headers={"If-None-Match": etag}).status_code == 200
    make_org(name="新组织")
    changed = client.get(orgs_route, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
