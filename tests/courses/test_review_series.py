from datetime import date, timedelta

import pytest
from sqlalchemy import select

from elearn import clock
from elearn.audit.models import AuditEntry
from elearn.courses import review
from elearn.courses import series as series_svc
from elearn.courses.series import Audience
from elearn.errors import Forbidden, ServiceError
from elearn.extensions import db


@pytest.fixture
def admin(make_user):
    return make_user(role="site_admin")


def actions():
    return list(db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


def test_approve_and_return_are_audited(admin, make_course):
    c1, c2 = make_course(status="in_review"), make_course(status="in_review")
    assert {c.id for c in review.queue(admin)} == {c1.id, c2.id}
    review.approve(admin, c1)
    review.return_for_changes(admin, c2, "第二讲缺少字幕")
    assert (c1.status, c2.status) == ("approved", "returned")
    assert c2.review_comment == "第二讲缺少字幕" and c2.reviewed_by_id == admin.id
    assert actions()[-2:] == ["course.approve", "course.return"]
    assert review.queue(admin) == []


def test_lecturer_cannot_approve_own_course(make_user, make_course):
    lecturer = make_user(role="lecturer")
    course = make_course(status="in_review", lecturer=lecturer)
    with pytest.raises(Forbidden):
        review.approve(lecturer, course)
    with pytest.raises(Forbidden):
        review.return_for_changes(lecturer, course, "")
    db.session.refresh(course)
    assert course.status == "in_review"


def test_return_needs_comment_and_only_submitted_courses_are_decided(admin, make_course):
    course = make_course(status="in_review")
    with pytest.raises(ServiceError) as exc:
        review.return_for_changes(admin, course, "  ")
    assert exc.value.code == "comment_required"
    draft = make_course(status="draft")
    with pytest.raises(ServiceError) as exc:
        review.approve(admin, draft)
    assert exc.value.code == "not_in_review" and draft.status == "draft"


def test_unapproved_course_cannot_be_published(admin, make_course, make_org):
    org = make_org()
    ok, pending = make_course(), make_course(status="in_review")
    s = series_svc.save(admin, None, title="专题一", course_ids=[ok.id, pending.id],
                        audience=Audience(organisations=((org.id, True),)))
    with pytest.raises(ServiceError) as exc:
        series_svc.publish(admin, s)
    assert exc.value.code == "course_not_approved"
    db.session.refresh(s)
    assert not s.published
    # Once approved it can be published; putting an unapproved course into a published series is refused.
    review.approve(admin, pending)
    series_svc.publish(admin, s)
    draft = make_course(status="draft")
    with pytest.raises(ServiceError):
        series_svc.save(admin, s, title="专题一", course_ids=[ok.id, draft.id],
                        audience=Audience(organisations=((org.id, True),)))
    db.session.rollback()
    assert [i.course_id for i in series_svc.get(s.id).items] == [ok.id, pending.id]


def test_publish_needs_a_place_audience(admin, make_course):
    s = series_svc.save(admin, None, title="只限类别", course_ids=[make_course().id],
                        audience=Audience(categories=("cadre",)))
    with pytest.raises(ServiceError) as exc:
        series_svc.publish(admin, s)
    assert exc.value.code == "no_audience"


def test_only_site_admin_manages_series(make_user, make_course):
    org_admin = make_user(role="org_admin")
    with pytest.raises(Forbidden):
        series_svc.save(org_admin, None, title="x", course_ids=[make_course().id])


def test_series_validation(admin, make_course):
    c = make_course()
    with pytest.raises(ServiceError) as exc:
        series_svc.save(admin, None, title="x", course_ids=[c.id], opens_on=date(2025, 5, 1),
                        due_on=date(2025, 4, 1))
    assert exc.value.code == "bad_dates"
    with pytest.raises(ServiceError) as exc:
        series_svc.save(admin, None, title="x", course_ids=[c.id, c.id])
    assert exc.value.code == "duplicate_course"
    with pytest.raises(ServiceError) as exc:
        series_svc.save(admin, None, title="x", course_ids=[c.id], audience=Audience(sectors=("mars",)))
    assert exc.value.code == "bad_sector"


def test_series_audience_and_order(admin, make_org, make_user, make_course):
    rural = make_org(sector="rural")
    branch = make_org(kind="branch", parent=rural)
    city = make_org(sector="community")
    farmer, branch_member, citizen = make_user(org=rural), make_user(org=branch), make_user(org=city)
    c1, c2, c3 = make_course(title="甲"), make_course(title="乙"), make_course(title="丙")
    sector_series = series_svc.save(admin, None, title="农村专题", course_ids=[c2.id, c1.id],
                                    audience=Audience(sectors=("rural",)), required=True,
                                    due_on=clock.site_today() + timedelta(days=30))
    only_top = series_svc.save(admin, None, title="仅本级", course_ids=[c3.id],
                               audience=Audience(organisations=((rural.id, False),)))
    for s in (sector_series, only_top):
        series_svc.publish(admin, s)
    assert [s["title"] for s in series_svc.home_listing(farmer)] == ["农村专题", "仅本级"]
    assert [s["title"] for s in series_svc.home_listing(branch_member)] == ["农村专题"]
    assert series_svc.home_listing(citizen) == []
    listing = series_svc.home_listing(farmer)[0]
    assert listing["required"] and [c["title"] for c in listing["courses"]] == ["乙", "甲"]
    assert listing["courses"][0]["url"] == f"/learn/courses/{c2.id}"
    series_svc.unpublish(admin, sector_series)
    assert [s["title"] for s in series_svc.home_listing(farmer)] == ["仅本级"]
    assert actions().count("series.publish") == 2 and "series.unpublish" in actions()


def test_home_listing_due_soon_first_then_newest(admin, make_org, make_user, make_course):
    org = make_org()
    m = make_user(org=org)
    made = {}
    for title, due in (("无期限旧", None), ("远期", 60), ("近期", 5), ("无期限新", None)):
        s = series_svc.save(admin, None, title=title, course_ids=[make_course().id],
                            audience=Audience(organisations=((org.id, True),)),
                            due_on=clock.site_today() + timedelta(days=due) if due else None)
        made[title] = series_svc.publish(admin, s)
    assert [s["title"] for s in series_svc.home_listing(m)] == ["近期", "远期", "无期限新", "无期限旧"]


def test_lists_in_messages_follow_the_language(app, admin, make_course, make_org):
    org = make_org()
    a, b = make_course(title="甲课", status="in_review"), make_course(title="乙课", status="draft")
    s = series_svc.save(admin, None, title="专题二", course_ids=[a.id, b.id],
                        audience=Audience(organisations=((org.id, True),)))
    with pytest.raises(ServiceError) as zh:
        series_svc.publish(admin, s)
    assert "甲课和乙课" in zh.value.message
    admin.locale = "en"
    db.session.commit()
    with app.test_request_context("/"):
        from flask_babel import refresh
        from flask_login import login_user

        from elearn.auth import services as auth_services
        auth_services.start_session(admin, ip=None, user_agent=None, remember=False)
        login_user(admin)
        refresh()  # the locale chosen earlier in this app context is cached
        with pytest.raises(ServiceError) as en:
            series_svc.publish(admin, s)
    assert "甲课 and 乙课" in en.value.message and "、" not in en.value.message
