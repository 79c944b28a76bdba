"""The API token page: scopes and an organisation limit chosen at issue, shown, revocable; in the account menu."""
from elearn.auth import tokens
from elearn.extensions import db


def test_member_issues_a_read_only_token(client, auth, make_user):
    member = make_user()
    auth.login(member.username)
    page = client.get("/account/tokens").get_data(as_text=True)
    assert 'value="read"' in page and 'value="study"' in page
    assert 'value="admin"' not in page and 'name="organisation_id"' not in page
    page = client.post("/account/tokens", data={"action": "create", "name": "只读", "scope": ["read"],
                                                        "scope_fieldset": "1"},
                       follow_redirects=True).get_data(as_text=True)
    assert "elt_" in page
    row = tokens.list_for(member)[0]
    assert row.scope_list == ["read"] and row.organisation_id is None
    assert "读取" in page


def test_member_cannot_forge_the_admin_scope_nor_an_empty_one(client, auth, make_user):
    member = make_user()
    auth.login(member.username)
    for scopes in (["read", "admin"], []):
        r = client.post("/account/tokens", data={"action": "create", "name": "x", "scope": scopes,
                                                 "scope_fieldset": "1"})
        assert r.status_code == 200 and "elt_" not in r.get_data(as_text=True)
    assert tokens.list_for(member) == []


def test_admin_limits_a_token_to_a_branch_and_revokes_it(client, auth, make_user, make_org):
    home = make_org(name="某县委")
    branch = make_org(name="第一支部", kind="branch", parent=home)
    other = make_org(name="别的县委")
    admin = make_user(org=home, role="org_admin")
    auth.login(admin.username)
    page = client.get("/account/tokens").get_data(as_text=True)
    assert 'value="admin"' in page and "第一支部" in page and "别的县委" not in page
    form = {"action": "create", "scope": ["read", "admin"], "scope_fieldset": "1"}
    page = client.post("/account/tokens", data={**form, "name": "省平台", "organisation_id": str(branch.id)}) \
        .get_data(as_text=True)
    assert "elt_" in page and "第一支部" in page
    row = tokens.list_for(admin)[0]
    assert row.scope_list == ["read", "admin"] and row.organisation_id == branch.id
    # an organisation outside the admin's subtree is refused, nothing issued
    r = client.post("/account/tokens", data={**form, "name": "越权", "organisation_id": str(other.id)})
    assert r.status_code == 200 and len(tokens.list_for(admin)) == 1
    client.post("/account/tokens", data={"action": "revoke", "token_id": row.id})
    db.session.expire_all()
    assert tokens.list_for(admin)[0].revoked_at is not None


def test_token_page_is_in_the_account_menu(client, auth, make_user):
    auth.login(make_user().username)
    page = client.get("/").get_data(as_text=True)
    nav = page[page.index('<nav class="nav"'):page.index("</nav>")]
    assert 'href="/account/tokens"' in nav
    main = page[page.index('<main'):]
    assert 'href="/account/tokens"' not in main
