"""Branch officers: who may run a branch's life."""
from __future__ import annotations

import pytest

from elearn.branch import officers
from elearn.errors import Forbidden, ServiceError


def test_secretary_manages_own_branch_only_and_a_new_secretary_ends_the_old_term(app, db, make_org, make_user):
    committee = make_org("党委", kind="committee")
    branch = make_org("一支部", kind="branch", parent=committee)
    other = make_org("二支部", kind="branch", parent=committee)
    admin = make_user("adm", role="org_admin", org=committee)
    first = make_user("sec1", org=branch)
    second = make_user("sec2", org=branch)
    outsider = make_user("out", org=other)

    assert not officers.may_manage_branch(first, branch)
    officers.appoint(admin, branch, first, "secretary")
    assert officers.may_manage_branch(first, branch)
    assert not officers.may_manage_branch(first, other)
    assert not officers.may_manage_branch(first, committee)
    assert [o.id for o in officers.managed_branches(first)] == [branch.id]

    officers.appoint(admin, branch, second, "secretary")
    assert not officers.may_manage_branch(first, branch)
    assert officers.may_manage_branch(second, branch)
    assert [o.user_id for o in officers.current_officers(branch)] == [second.id]

    with pytest.raises(ServiceError):
        officers.appoint(admin, branch, outsider, "deputy")  # not a member of the branch
    with pytest.raises(Forbidden):
        officers.appoint(second, branch, first, "deputy")  # a secretary does not appoint
    committee_member = make_user("cmember", org=branch)
    officers.appoint(admin, branch, committee_member, "committee")
    assert not officers.may_manage_branch(committee_member, branch)  # a 委员 records, does not run
