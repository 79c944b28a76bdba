"""Course ratings: only after finishing the course, 1–5, one per member (re-rating updates), a summary."""
from sqlalchemy import select

from elearn.community import ratings
from elearn.community.models import CourseRating
from elearn.extensions import db


def _ratings():
    return list(db.session.execute(select(CourseRating)).scalars())


def test_rating_before_finishing_is_refused_and_the_form_is_not_offered(classroom, client, auth):
    auth.login("member1")
    page = client.get(f"/learn/courses/{classroom.course.id}")
    assert "学完本课程后可以评分" in page.text and 'name="stars"' not in page.text
    resp = client.post(f"/community/courses/{classroom.course.id}/rating", data={"stars": "5"},
                       follow_redirects=True)
    assert "学完本课程后才能评分" in resp.text
    assert _ratings() == []


def test_a_finished_member_rates_and_rerating_updates(classroom, client, auth, finish):
    finish(classroom.member, classroom.course)
    auth.login("member1")
    assert 'name="stars"' in client.get(f"/learn/courses/{classroom.course.id}").text
    client.post(f"/community/courses/{classroom.course.id}/rating", data={"stars": "4", "comment": "很好"})
    resp = client.post(f"/community/courses/{classroom.course.id}/rating", data={"stars": "2", "comment": ""},
                       follow_redirects=True)
    assert "已保存您的评分" in resp.text and "2.0 分（1 人评分）" in resp.text
    [row] = _ratings()
    assert row.stars == 2 and row.comment == ""


def test_stars_out_of_range_or_not_numbers_change_nothing(classroom, client, auth, finish):
    finish(classroom.member, classroom.course)
    auth.login("member1")
    for bad in ("0", "6", "3.5", "abc", "", "99999999999999999999"):
        resp = client.post(f"/community/courses/{classroom.course.id}/rating", data={"stars": bad},
                           follow_redirects=True)
        assert resp.status_code == 200 and "评分须为 1 到 5 的整数" in resp.text
    resp = client.post(f"/community/courses/{classroom.course.id}/rating",
                       data={"stars": "5", "comment": "长" * 501}, follow_redirects=True)
    assert "内容过长" in resp.text
    assert _ratings() == []


def test_a_course_i_cannot_see_is_a_404(classroom, client, auth, finish):
    finish(classroom.outsider, classroom.course)
    auth.login("outsider1")
    assert client.post(f"/community/courses/{classroom.course.id}/rating", data={"stars": "5"}).status_code == 404
    assert _ratings() == []


def test_summary_in_one_query(classroom, make_user, make_course, finish, count_queries):
    second = make_course()
    users = [make_user(org=classroom.org) for _ in range(3)]
    for u, stars in zip(users, (5, 4, 4), strict=True):
        finish(u, classroom.course)
        ratings.rate_course(u, classroom.course, stars)
    ids = [classroom.course.id, second.id]
    with count_queries() as n:
        summary = ratings.course_rating_summary(ids)
    assert n[0] == 1
    assert summary == {ids[0]: (4.33, 3)}
    assert ratings.course_rating_summary([]) == {}


def test_rating_through_the_api(classroom, client, auth, api, finish):
    auth.login("member1")
    url = f"/api/v1/courses/{classroom.course.id}/rating"
    refused = api.put(url, json={"stars": 5})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "not_completed"
    finish(classroom.member, classroom.course)
    for bad in ({"stars": 0}, {"stars": "5"}, {"stars": 5.0}, {"stars": True}, {}):
        assert api.put(url, json=bad).status_code == 400, bad
    done = api.put(url, json={"stars": 4, "comment": "讲得清楚"}).get_json()
    assert done == {"course_id": classroom.course.id, "average": 4.0, "count": 1, "may_rate": True, "stars": 4,
                    "comment": "讲得清楚"}
    auth.logout()
    auth.login("outsider1")
    assert api.get(url).status_code == 404
