"""The organisation and member admin API: the member pages' rules through the API."""
import io

from openpyxl import Workbook

from elearn.extensions import db
from elearn.orgs import members as users
from tests.api.conftest import admin_bearer, bearer

GOOD_PASSWORD = "Qz7-long-Secret!"


def test_org_tree_from_the_admins_own_organisation(client, tree):
    h = admin_bearer(tree.admin)
    roots = client.get("/api/v1/orgs", headers=h).get_json()
    assert [o["name"] for o in roots["items"]] == ["某某县委"] and roots["items"][0]["children"] == 2
    children = client.get(f"/api/v1/orgs/{tree.county.id}/children", headers=h).get_json()
    assert [o["name"] for o in children["items"]] == ["第一支部", "第二支部"]
    assert children["items"][0]["members"] == 1 and children["total"] == 2
    assert client.get(f"/api/v1/orgs/{tree.elsewhere.id}", headers=h).status_code == 404
    site = client.get("/api/v1/orgs", headers=admin_bearer(tree.site_admin)).get_json()
    assert {o["name"] for o in site["items"]} >= {"某某县委", "另一县委"}


def test_member_list_filters_and_pages(client, tree, make_user):
    make_user(username="cadre_a", org=tree.branch_a, category="cadre")
    h = admin_bearer(tree.admin)
    everyone = client.get("/api/v1/members?per_page=100", headers=h).get_json()
    names = {m["username"] for m in everyone["items"]}
    assert {"member_a", "member_b", "cadre_a", "county_admin", "lecturer1"} <= names
    assert "outsider1" not in names and "other_admin" not in names
    branch = client.get(f"/api/v1/members?org={tree.branch_a.id}", headers=h).get_json()
    assert {m["username"] for m in branch["items"]} == {"member_a", "cadre_a"}
    cadres = client.get("/api/v1/members?category=cadre", headers=h).get_json()
    assert [m["username"] for m in cadres["items"]] == ["cadre_a"]
    assert client.get("/api/v1/members?q=member_&role=member", headers=h).get_json()["total"] == 2
    first = client.get("/api/v1/members?per_page=2", headers=h).get_json()
    assert len(first["items"]) == 2 and first["next"].endswith("page=2")
    # a filter outside the subtree is not confirmed; a bad filter is a 400
    assert client.get(f"/api/v1/members?org={tree.elsewhere.id}", headers=h).status_code == 404
    assert client.get("/api/v1/members?active=maybe", headers=h).status_code == 400
    assert client.get("/api/v1/members?role=king", headers=h).status_code == 400


def test_member_list_etag(client, tree, make_user):
    h = admin_bearer(tree.admin)
    r = client.get("/api/v1/members", headers=h)
    etag = r.headers["ETag"]
    assert client.get("/api/v1/members", headers={**h, "If-None-Match": etag}).status_code == 304
    make_user(username="newcomer", org=tree.branch_a)
    assert client.get("/api/v1/members", headers={**h, "If-None-Match": etag}).status_code == 200


def test_create_read_update_member(client, tree):
    h = admin_bearer(tree.admin)
    r = client.post("/api/v1/members", headers=h, json={
        "username": "new_member", "name": "新党员", "password": GOOD_PASSWORD, "organisation_id": tree.branch_a.id,
        "phone": "13800138000"})
    assert r.status_code == 200, r.get_json()
    created = r.get_json()
    assert created["organisation"]["id"] == tree.branch_a.id and created["phone"] == "13800138000"
    assert created["manageable"] is True and created["memberships"][0]["kind"] == "home"
    user_id = created["id"]
    r = client.patch(f"/api/v1/members/{user_id}", headers=h, json={"category": "cadre", "phone": None})
    assert r.status_code == 200 and r.get_json()["category"] == "cadre" and r.get_json()["phone"] is None
    assert client.get(f"/api/v1/members/{user_id}", headers=h).get_json()["category"] == "cadre"


def test_member_rules_are_the_pages_rules(client, tree):
    h = admin_bearer(tree.admin)
    # the service's refusals, with their messages, and nothing changed
    r = client.post("/api/v1/members", headers=h, json={
        "username": "member_a", "name": "重名", "password": GOOD_PASSWORD, "organisation_id": tree.branch_a.id})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "username_taken"
    r = client.post("/api/v1/members", headers=h, json={
        "username": "sa_wannabe", "name": "越权", "password": GOOD_PASSWORD, "organisation_id": tree.branch_a.id,
        "role": "site_admin"})
    assert r.status_code == 403
    r = client.post("/api/v1/members", headers=h, json={
        "username": "elsewhere1", "name": "外县", "password": GOOD_PASSWORD, "organisation_id": tree.elsewhere.id})
    assert r.status_code == 404
    assert users.by_username("sa_wannabe") is None and users.by_username("elsewhere1") is None
    r = client.patch(f"/api/v1/members/{tree.member.id}", headers=h, json={"exempt": True})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "exempt_reason_required"
    r = client.patch(f"/api/v1/members/{tree.member.id}", headers=h, json={"name": None})
    assert r.status_code == 400 and "name" in r.get_json()["error"]["message"]
    r = client.patch(f"/api/v1/members/{tree.admin.id}", headers=h, json={"active": False})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "own_account"
    r = client.patch(f"/api/v1/members/{tree.site_admin.id}", headers=h, json={"name": "改名"})
    assert r.status_code == 403
    db.session.expire_all()
    assert tree.member.exempt is False and tree.site_admin.name == "site_admin1"
    # out of reach: not confirmed
    assert client.get(f"/api/v1/members/{tree.outsider.id}", headers=h).status_code == 404
    assert client.patch(f"/api/v1/members/{tree.outsider.id}", headers=h, json={"name": "x"}).status_code == 404


def test_transferred_out_member_is_seen_masked_and_not_changed(client, tree):
    users.update(tree.site_admin, tree.member, phone="13800138000")
    users.transfer(tree.site_admin, tree.member, tree.elsewhere)
    h = admin_bearer(tree.branch_admin)  # never managed member_a: not visible
    assert client.get(f"/api/v1/members/{tree.member.id}", headers=h).status_code == 404
    h = admin_bearer(tree.admin)  # the county keeps the record of its former member
    seen = client.get(f"/api/v1/members/{tree.member.id}", headers=h).get_json()
    assert seen["manageable"] is False and seen["phone"] == "138****8000"
    assert client.patch(f"/api/v1/members/{tree.member.id}", headers=h, json={"name": "x"}).status_code == 403


def _csv(rows):
    return ("用户名,姓名,组织\n" + "\n".join(",".join(r) for r in rows) + "\n").encode()


def test_import_members_all_or_nothing_with_a_row_report(client, tree):
    h = admin_bearer(tree.admin)
    data = {"organisation_id": str(tree.branch_a.id),
            "file": (io.BytesIO(_csv([["imp_one", "甲", ""], ["member_a", "重名", ""]])), "members.csv")}
    r = client.post("/api/v1/members/import", headers=h, data=data, content_type="multipart/form-data")
    assert r.status_code == 422
    report = r.get_json()
    assert report["ok"] is False and report["imported"] == 0 and report["problems"][0]["row"] == 3
    assert users.by_username("imp_one") is None
    data = {"organisation_id": str(tree.branch_a.id),
            "file": (io.BytesIO(_csv([["imp_one", "甲", ""], ["imp_two", "乙", str(tree.branch_b.id)]])), "m.csv")}
    r = client.post("/api/v1/members/import", headers=h, data=data, content_type="multipart/form-data")
    assert r.status_code == 200 and r.get_json()["imported"] == 2
    assert {p["username"] for p in r.get_json()["generated_passwords"]} == {"imp_one", "imp_two"}
    assert users.by_username("imp_two").organisation_id == tree.branch_b.id


def test_import_xlsx_and_bad_uploads(client, tree):
    h = admin_bearer(tree.admin)
    book = Workbook()
    book.active.append(["用户名", "姓名"])
    book.active.append(["xlsx_one", "表格"])
    buf = io.BytesIO()
    book.save(buf)
    buf.seek(0)
    r = client.post("/api/v1/members/import", headers=h, content_type="multipart/form-data",
                    data={"organisation_id": str(tree.county.id), "file": (buf, "m.xlsx")})
    assert r.status_code == 200 and users.by_username("xlsx_one") is not None
    r = client.post("/api/v1/members/import", headers=h, content_type="multipart/form-data",
                    data={"organisation_id": str(tree.county.id)})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "file_required"
    r = client.post("/api/v1/members/import", headers=h, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(_csv([["a_b_c", "x", ""]])), "m.csv")})
    assert r.status_code == 400
    r = client.post("/api/v1/members/import", headers=h, content_type="multipart/form-data",
                    data={"organisation_id": str(tree.county.id), "file": (io.BytesIO(b"\x00\x01garbage"), "m.xlsx")})
    assert r.status_code == 400
    r = client.post("/api/v1/members/import", headers=h, content_type="multipart/form-data",
                    data={"organisation_id": str(tree.elsewhere.id),
                          "file": (io.BytesIO(_csv([["away_one", "x", ""]])), "m.csv")})
    assert r.status_code == 404 and users.by_username("away_one") is None


def test_member_and_lecturer_get_403_even_with_a_cookie_session(client, auth, tree):
    for user in (tree.member, tree.lecturer):
        assert client.get("/api/v1/members", headers=bearer(user)).status_code == 403
        auth.login(user.username)
        r = client.get("/api/v1/members")
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
        auth.logout()
