from datetime import date

import pytest
from sqlalchemy import select

from elearn import clock
from elearn.audit.models import AuditEntry
from elearn.errors import Forbidden, ServiceError
from elearn.extensions import db
from elearn.orgs import members as users
from elearn.orgs import services as orgs
from elearn.orgs.models import User
from tests.conftest import PASSWORD


@pytest.fixture
def tree(make_org):
    city = make_org("市委", county=True, sector="government")
    town = make_org("镇党委", parent=city)
    east = make_org("东村支部", kind="branch", parent=town)
    street = make_org("街道党工委", parent=city, sector="community")
    happy = make_org("社区支部", kind="branch", parent=street, sector="community")
    return {"city": city, "town": town, "east": east, "street": street, "happy": happy}


def test_tree_paths_and_subtrees(tree):
    assert tree["east"].path == f"/{tree['city'].id}/{tree['town'].id}/{tree['east'].id}/"
    assert tree["east"].is_within(tree["city"]) and not tree["east"].is_within(tree["street"])
    assert set(orgs.subtree_ids(tree["town"])) == {tree["town"].id, tree["east"].id}


def test_org_rules(make_user, tree):
    admin = make_user(role="org_admin", org=tree["town"])
    with pytest.raises(ServiceError, match="不能设立"):
        orgs.create(admin, name="x", kind="committee", sector="rural", parent=tree["east"])
    with pytest.raises(Forbidden):
        orgs.create(admin, name="x", kind="branch", sector="rural", parent=tree["street"])
    with pytest.raises(Forbidden):
        orgs.create(admin, name="x", kind="committee", sector="rural", parent=None)
    with pytest.raises(ServiceError):
        orgs.create(admin, name="x", kind="branch", sector="mars", parent=tree["town"])
    west = orgs.create(admin, name="西村支部", kind="branch", sector="rural", parent=tree["town"])
    assert west.is_within(tree["town"])


def test_org_admin_manages_only_subtree(make_user, tree):
    admin = make_user(role="org_admin", org=tree["town"])
    assert orgs.can_manage(admin, tree["east"]) and orgs.can_manage(admin, tree["town"])
    assert not orgs.can_manage(admin, tree["city"]) and not orgs.can_manage(admin, tree["happy"])
    assert {o.id for o in orgs.managed_orgs(admin)} == {tree["town"].id, tree["east"].id}
    member = make_user(org=tree["east"])
    assert not orgs.can_manage(member, tree["east"])
    assert orgs.managed_orgs(member) == []


def test_create_user_validates_and_changes_nothing_on_error(make_user, tree):
    admin = make_user(role="org_admin", org=tree["town"])
    before = db.session.execute(select(User)).scalars().all()
    bad = [
        dict(username="a", name="x", password=PASSWORD, organisation=tree["east"]),
        dict(username="good_name", name="", password=PASSWORD, organisation=tree["east"]),
        dict(username="good_name", name="x", password="short", organisation=tree["east"]),
        dict(username="good_name", name="x", password=PASSWORD, organisation=tree["happy"]),
        dict(username="good_name", name="x", password=PASSWORD, organisation=tree["east"], role="site_admin"),
        dict(username="good_name", name="x", password=PASSWORD, organisation=tree["east"], exempt=True),
        dict(username="good_name", name="x", password=PASSWORD, organisation=tree["east"], category="boss"),
        dict(username=admin.username.upper(), name="x", password=PASSWORD, organisation=tree["east"]),
    ]
    for kwargs in bad:
        with pytest.raises(ServiceError):
            users.create(admin, **kwargs)
        db.session.rollback()
    assert len(db.session.execute(select(User)).scalars().all()) == len(before)


def test_exempt_requires_reason_and_is_kept(make_user, tree):
    elder = make_user(org=tree["east"], exempt=True, exempt_reason="年老体弱")
    assert elder.exempt and elder.exempt_reason == "年老体弱"


def test_update_is_audited_with_before_and_after(make_user, tree):
    admin = make_user(role="org_admin", org=tree["town"])
    member = make_user(org=tree["east"])
    users.update(admin, member, category="branch_secretary")
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "user.update")).scalar_one()
    assert entry.actor_id == admin.id and entry.object_id == member.id
    assert entry.before["category"] == "member" and entry.after["category"] == "branch_secretary"
    assert "password_hash" not in (entry.after or {})


def test_org_admin_cannot_touch_other_subtree_or_promote_to_site_admin(make_user, tree):
    admin = make_user(role="org_admin", org=tree["town"])
    outsider = make_user(org=tree["happy"])
    with pytest.raises(Forbidden):
        users.update(admin, outsider, name="改名")
    member = make_user(org=tree["east"])
    with pytest.raises(Forbidden):
        users.update(admin, member, role="site_admin")
    db.session.rollback()
    db.session.refresh(member)
    assert member.role == "member"


def test_transfer_keeps_history_both_sides_see_it(make_user, tree):
    site = make_user(role="site_admin", org=tree["city"])
    town_admin = make_user(role="org_admin", org=tree["town"])
    street_admin = make_user(role="org_admin", org=tree["street"])
    m = make_user(org=tree["east"])
    with pytest.raises(ServiceError, match="不能早于"):
        users.transfer(site, m, tree["happy"], on=date(2000, 1, 1))
    db.session.rollback()
    users.transfer(site, m, tree["happy"], on=clock.site_today())
    assert m.organisation_id == tree["happy"].id
    assert [(x.organisation_id, x.ended_on) for x in m.memberships] == [
        (tree["east"].id, clock.site_today()), (tree["happy"].id, None)]
    for admin in (town_admin, street_admin):
        visible = db.session.execute(users.visible_members_stmt(admin)).scalars().all()
        assert m in visible
    # The outflow side sees but no longer manages.
    with pytest.raises(Forbidden):
        users.update(town_admin, m, name="x")


def test_mobile_member_inflow_is_responsible(make_user, tree):
    site = make_user(role="site_admin", org=tree["city"])
    m = make_user(org=tree["east"])
    users.transfer(site, m, tree["happy"], mobile=True)
    assert m.organisation_id == tree["east"].id  # home organisation kept
    assert users.responsible_org(m).id == tree["happy"].id
    street_admin = make_user(role="org_admin", org=tree["street"])
    assert m in db.session.execute(users.visible_members_stmt(street_admin)).scalars().all()


def test_transfer_needs_one_side(make_user, tree):
    street_admin = make_user(role="org_admin", org=tree["street"])
    m = make_user(org=tree["east"])
    other = orgs.create(None, name="别处", kind="committee", sector="rural")
    with pytest.raises(Forbidden):
        users.transfer(street_admin, m, other)


def test_a_member_who_moved_out_cannot_be_pulled_back_by_the_old_organisation(make_user, tree):
    """The outflow side keeps seeing the member, but only the organisation the member belongs to now (or studies
    with, as a mobile member) may move them on."""
    site = make_user(role="site_admin", org=tree["city"])
    town_admin = make_user(role="org_admin", org=tree["town"])
    street_admin = make_user(role="org_admin", org=tree["street"])
    m = make_user(org=tree["east"])
    users.transfer(site, m, tree["happy"])
    with pytest.raises(Forbidden):
        users.transfer(town_admin, m, tree["east"])
    db.session.rollback()
    db.session.refresh(m)
    assert m.organisation_id == tree["happy"].id and len(m.memberships) == 2
    users.transfer(street_admin, m, tree["east"])  # the street manages the member's organisation now
    assert m.organisation_id == tree["east"].id
    # A mobile member may be moved on by the inflow organisation they study with.
    users.transfer(site, m, tree["happy"], mobile=True)
    users.transfer(street_admin, m, tree["street"], mobile=True)
    assert users.responsible_org(m).id == tree["street"].id


def test_passwords_are_argon2(make_user):
    u = make_user()
    assert u.password_hash.startswith("$argon2")
