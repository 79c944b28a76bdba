"""Control characters and oversized values are refused at the edge with a clear 400, and change nothing."""
from __future__ import annotations

from elearn import policy
from elearn.courses.models import Course
from elearn.extensions import db


def test_nul_in_a_form_field_is_refused_and_nothing_changes(client, auth, make_user, make_course):
    lecturer = make_user("lect", role="lecturer")
    course = make_course(lecturer=lecturer, title="党章学习", status="draft")
    auth.login("lect")
    response = client.post(f"/studio/courses/{course.id}", data={"course-title": "改\x00名", "course-description": ""})
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Course, course.id).title == "党章学习"


def test_nul_in_a_path_or_query_is_a_400_not_a_database_error(client, auth, make_user):
    make_user("lect", role="lecturer")
    auth.login("lect")
    assert client.get("/studio/uploads/x%00y").status_code == 400
    assert client.get("/search", query_string={"q": "党\x1b[31m"}).status_code == 400


def test_escaped_nul_in_json_is_refused_with_a_json_error(client, auth, make_user):
    make_user("member1")
    auth.login("member1")
    response = client.post("/api/v1/lessons/1/progress", data='{"playback_session": "a\\u0000b", "seq": 1}',
                           content_type="application/json", csrf=False)
    assert response.status_code == 400
    assert response.is_json and "控制字符" in response.get_json()["error"]["message"]


def test_the_refusal_names_where_the_value_came_from_in_the_reader_s_language(client, auth, make_user):
    make_user("member1")
    auth.login("member1")
    body = '{"playback_session": "a\\u0000b", "seq": 1}'
    zh = client.post("/api/v1/lessons/1/progress", data=body, content_type="application/json", csrf=False)
    assert zh.get_json()["error"]["message"] == "提交的数据含有无法接受的控制字符。"
    client.post("/auth/locale/en", data={"next": "/"})
    en = client.post("/api/v1/lessons/1/progress", data=body, content_type="application/json", csrf=False)
    assert en.get_json()["error"]["message"] == \
        "The submitted data contains control characters that cannot be accepted."
    assert client.get("/search", query_string={"q": "党\x1b"}).status_code == 400
    assert "A query parameter contains" in client.get("/search", query_string={"q": "党\x1b"}).get_data(as_text=True)


def test_line_breaks_and_tabs_from_a_textarea_are_fine_and_size_is_bounded(client, auth, make_user, make_course):
    lecturer = make_user("lect", role="lecturer")
    course = make_course(lecturer=lecturer, title="党章学习", status="draft")
    auth.login("lect")
    response = client.post(f"/studio/courses/{course.id}", data={
        "course-title": "党章学习", "course-category": "party_rules", "course-description": "第一行\r\n\t第二行"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Course, course.id).description == "第一行\r\n\t第二行"
    huge = "x" * (policy.TEXT_VALUE_MAX_CHARS + 1)
    response = client.post(f"/studio/courses/{course.id}",
                           data={"course-title": "党章学习", "course-description": huge})
    assert response.status_code == 400 and "过长" in response.get_data(as_text=True)


def test_a_large_json_body_is_left_to_the_view_that_refuses_it(client, auth, make_user):
    """The guard does not parse bodies the JSON views would refuse anyway (that would be work for anyone to
    order before sign-in): the view's own size check answers."""
    from elearn.auth import tokens
    from elearn.http.schemas import MAX_JSON_BYTES

    member = make_user("member1")
    body = '{"playback_session": "a\\u0000b", "pad": "' + "x" * MAX_JSON_BYTES + '"}'
    response = client.post("/api/v1/lessons/1/progress", data=body, content_type="application/json", csrf=False,
                           headers={"Authorization": f"Bearer {tokens.issue(member)}"})
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert "过大" in message and "控制字符" not in message
