import pytest

from elearn.courses.models import Course, Series
from elearn.extensions import db


@pytest.fixture
def people(make_org, make_user):
    org = make_org("县委", sector="rural")
    return {"org": org, "site": make_user("site", org=org, role="site_admin"),
            "lect": make_user("lect", org=org, role="lecturer"),
            "member": make_user("member1", org=org)}


def test_lecturer_and_member_cannot_review(client, auth, people, make_course):
    course = make_course(status="in_review", lecturer=people["lect"])
    for who in ("lect", "member1"):
        auth.login(who)
        assert client.get("/publish/review").status_code == 403
        r = client.post(f"/publish/review/{course.id}", data={"decision": "approve"})
        assert r.status_code == 403
        auth.logout()
    assert db.session.get(Course, course.id).status == "in_review"


def test_site_admin_returns_course_with_comment(client, auth, people, make_course):
    course = make_course(title="待审课程", status="in_review", lecturer=people["lect"])
    auth.login("site")
    assert "待审课程" in client.get("/publish/review").get_data(as_text=True)
    r = client.post(f"/publish/review/{course.id}", data={"decision": "return", "comment": ""})
    assert r.status_code == 400 and "须填写审核意见" in r.get_data(as_text=True)
    r = client.post(f"/publish/review/{course.id}", data={"decision": "return", "comment": "请补充字幕"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == "returned"
    page = client.get(f"/publish/review/{course.id}").get_data(as_text=True)
    assert "请补充字幕" in page
    assert client.get("/publish/review/99999").status_code == 404


def test_review_page_shows_status_label_and_rendered_description(client, auth, people, make_course):
    course = make_course(title="待审课程", status="in_review", lecturer=people["lect"])
    course.description = "**重点**：学习<script>alert(1)</script>党章"
    db.session.commit()
    auth.login("site")
    page = client.get(f"/publish/review/{course.id}").get_data(as_text=True)
    assert "<dd>审核中</dd>" in page and "<dd>in_review</dd>" not in page
    assert "<strong>重点</strong>" in page and "**重点**" not in page
    assert "<script>alert(1)</script>" not in page


def test_series_create_publish_via_pages(client, auth, people, make_course):
    c1, c2 = make_course(title="第一课"), make_course(title="第二课")
    pending = make_course(title="未审课", status="in_review")
    auth.login("site")
    page = client.get("/publish/series/new").get_data(as_text=True)
    assert "第一课" in page and "未审课" not in page
    r = client.post("/publish/series/new", data={
        "title": "乡村振兴专题", "required": "y", "sectors": ["rural"],
        f"course_{c1.id}": "y", f"pos_{c1.id}": "2", f"course_{c2.id}": "y", f"pos_{c2.id}": "1",
        f"course_{pending.id}": "y"})
    assert r.status_code == 302
    s = db.session.query(Series).one()
    assert [i.course_id for i in s.items] == [c2.id, c1.id] and not s.published
    client.post(f"/publish/series/{s.id}/publish", data={"publish": "1"})
    db.session.expire_all()
    assert db.session.get(Series, s.id).published
    bad = client.post("/publish/series/new", data={"title": "", "sectors": ["rural"]})
    assert bad.status_code == 400
    assert db.session.query(Series).count() == 1
    auth.logout()
    auth.login("member1")
    assert client.get("/publish/series").status_code == 403
    assert client.post(f"/publish/series/{s.id}/publish", data={"publish": "0"}).status_code == 403
