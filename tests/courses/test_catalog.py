from datetime import timedelta

from elearn import clock
from elearn.courses import catalog
from elearn.orgs import members as users


def test_sector_audience(make_org, make_user, make_course, publish):
    rural = make_org(sector="rural")
    city = make_org(sector="community")
    farmer, citizen = make_user(org=rural), make_user(org=city)
    course = make_course()
    publish([course], sectors=["rural"])
    assert catalog.can_view_course(farmer, course)
    assert not catalog.can_view_course(citizen, course)
    assert [s.id for s in catalog.series_for(farmer)] and catalog.series_for(citizen) == []


def test_org_target_with_and_without_subtree(make_org, make_user, make_course, publish):
    top = make_org()
    branch = make_org(kind="branch", parent=top)
    at_top, in_branch = make_user(org=top), make_user(org=branch)
    c1, c2 = make_course(), make_course()
    publish([c1], orgs=[(top, True)])
    publish([c2], orgs=[(top, False)])
    assert catalog.can_view_course(in_branch, c1) and catalog.can_view_course(at_top, c1)
    assert not catalog.can_view_course(in_branch, c2) and catalog.can_view_course(at_top, c2)


def test_category_narrows_audience(make_org, make_user, make_course, publish):
    org = make_org()
    sec = make_user(org=org, category="branch_secretary")
    plain = make_user(org=org)
    c = make_course()
    publish([c], orgs=[(org, True)], categories=["branch_secretary"])
    assert catalog.can_view_course(sec, c) and not catalog.can_view_course(plain, c)


def test_unpublished_unopened_unapproved_are_hidden(make_org, make_user, make_course, publish):
    org = make_org(sector="rural")
    m = make_user(org=org)
    draft = make_course(status="draft")
    c_unpub, c_later = make_course(), make_course()
    publish([draft], sectors=["rural"])
    publish([c_unpub], sectors=["rural"], published=False)
    publish([c_later], sectors=["rural"], opens_on=clock.site_today() + timedelta(days=3))
    assert catalog.visible_course_ids(m) == set()
    assert catalog.visible_course_ids(m, today=clock.site_today() + timedelta(days=3)) == {c_later.id}


def test_mobile_member_sees_inflow_audience(make_org, make_user, make_course, publish):
    home = make_org(sector="rural")
    inflow = make_org(sector="emerging.gig")
    admin = make_user(role="site_admin")
    m = make_user(org=home)
    c = make_course()
    publish([c], sectors=["emerging.gig"])
    assert not catalog.can_view_course(m, c)
    users.transfer(admin, m, inflow, mobile=True)
    assert catalog.can_view_course(m, c)


def test_lecturer_sees_own_and_site_admin_all(make_user, make_course):
    lect = make_user(role="lecturer")
    own = make_course(lecturer=lect, status="draft")
    other = make_course(status="draft")
    admin = make_user(role="site_admin")
    assert catalog.can_view_course(lect, own) and not catalog.can_view_course(lect, other)
    assert catalog.can_view_course(admin, other)


def test_due_soon_first(make_org, make_user, make_course, publish):
    org = make_org(sector="rural")
    m = make_user(org=org)
    later = publish([make_course()], sectors=["rural"], due_on=clock.site_today() + timedelta(days=30))
    soon = publish([make_course()], sectors=["rural"], due_on=clock.site_today() + timedelta(days=3))
    undated = publish([make_course()], sectors=["rural"])
    assert [s.id for s in catalog.series_for(m)] == [soon.id, later.id, undated.id]
