"""Fixtures of the API tests: an organisation tree with one user of every role, and bearer tokens."""
from types import SimpleNamespace

import pytest

from elearn.auth import tokens


@pytest.fixture
def tree(make_org, make_user):
    """county → branch_a, branch_b; another county elsewhere. Admins of the county, of branch_b and of the other
    county; a site admin; a member of branch_a and one of branch_b; a lecturer of the county."""
    county = make_org(name="某某县委", county=True)
    branch_a = make_org(name="第一支部", kind="branch", parent=county)
    branch_b = make_org(name="第二支部", kind="branch", parent=county)
    elsewhere = make_org(name="另一县委", sector="community")
    return SimpleNamespace(
        county=county, branch_a=branch_a, branch_b=branch_b, elsewhere=elsewhere,
        member=make_user(username="member_a", org=branch_a),
        member_b=make_user(username="member_b", org=branch_b),
        lecturer=make_user(username="lecturer1", org=county, role="lecturer"),
        admin=make_user(username="county_admin", org=county, role="org_admin"),
        branch_admin=make_user(username="branch_b_admin", org=branch_b, role="org_admin"),
        other_admin=make_user(username="other_admin", org=elsewhere, role="org_admin"),
        site_admin=make_user(username="site_admin1", org=county, role="site_admin"),
        outsider=make_user(username="outsider1", org=elsewhere),
    )


def bearer(user, scopes="read,study", organisation=None) -> dict:
    return {"Authorization": f"Bearer {tokens.issue(user, 'test', scopes=scopes, organisation=organisation)}"}


def admin_bearer(user, organisation=None) -> dict:
    return bearer(user, "read,study,admin", organisation)
