"""Questions under a lesson: who may ask, answer, reply, report, hide; what a hidden post shows; the queue."""
import pytest
from sqlalchemy import select

from elearn.audit.models import AuditEntry
from elearn.community.models import DiscussionPost, PostReport
from elearn.extensions import db
from elearn.notify.models import Notification


def _posts():
    db.session.expire_all()  # what the requests wrote, not the test's cached copies
    return list(db.session.execute(select(DiscussionPost).order_by(DiscussionPost.id)).scalars())


def _post(post_id):
    db.session.expire_all()
    return db.session.get(DiscussionPost, post_id)


def _ask(client, auth, classroom, body="这一讲的第三点怎么理解？"):
    auth.login("member1")
    client.post(f"/community/lessons/{classroom.lesson.id}/questions", data={"body": body})
    auth.logout()
    return _posts()[-1]


def test_a_question_answered_by_the_lecturer_notifies_the_asker(classroom, client, auth):
    question = _ask(client, auth, classroom)
    auth.login("lecturer1")
    studio = client.get(f"/studio/courses/{classroom.course.id}").text
    assert "有 1 个学员提问等待您回答" in studio
    assert "这一讲的第三点怎么理解" in client.get(f"/community/courses/{classroom.course.id}/questions").text
    client.post(f"/community/posts/{question.id}/responses", data={"body": "结合原文第二段理解。"})
    assert "等待您回答" not in client.get(f"/studio/courses/{classroom.course.id}").text
    auth.logout()
    [note] = db.session.execute(select(Notification).where(Notification.kind == "question_answered")).scalars()
    assert note.user_id == classroom.member.id and note.link.endswith(f"#post-{question.id}")
    auth.login("member1")
    page = client.get(f"/learn/lessons/{classroom.lesson.id}").text
    assert "讲师回答" in page and "结合原文第二段理解。" in page
    client.post(f"/community/posts/{question.id}/responses", data={"body": "明白了，谢谢"})
    kinds = [p.kind for p in _posts()]
    assert kinds == ["question", "answer", "reply"]


def test_questions_on_a_lesson_i_cannot_see_are_refused_as_not_found(classroom, client, auth, api):
    question = _ask(client, auth, classroom)
    auth.login("outsider1")
    assert client.post(f"/community/lessons/{classroom.lesson.id}/questions", data={"body": "x"}).status_code == 404
    assert client.post(f"/community/posts/{question.id}/responses", data={"body": "x"}).status_code == 404
    assert client.post(f"/community/posts/{question.id}/report", data={}).status_code == 404
    assert api.get(f"/api/v1/lessons/{classroom.lesson.id}/questions").status_code == 404
    assert api.post(f"/api/v1/lessons/{classroom.lesson.id}/questions", json={"body": "x"}).status_code == 404
    assert api.post(f"/api/v1/posts/{question.id}/responses", json={"body": "x"}).status_code == 404
    assert client.post("/community/lessons/999999/questions", data={"body": "x"}).status_code == 404
    assert len(_posts()) == 1


def test_script_and_markup_in_posts_are_plain_text(classroom, client, auth):
    _ask(client, auth, classroom, body='<script>alert("q")</script>\n<a href="javascript:alert(1)">点我</a>')
    auth.login("lecturer1")
    page = client.get(f"/learn/lessons/{classroom.lesson.id}").text
    assert "<script>alert(" not in page and 'href="javascript:' not in page
    assert "&lt;script&gt;" in page
    # bidirectional overrides are dropped (the input guard refuses control characters), line breaks kept
    client.post(f"/community/posts/{_posts()[0].id}/responses", data={"body": "答\u202e复\r\n第二行"})
    assert _posts()[-1].body == "答复\n第二行"


def test_empty_and_huge_posts_change_nothing(classroom, client, auth, api):
    auth.login("member1")
    for body in ("", "   \n ", "长" * 4001):
        page = client.post(f"/community/lessons/{classroom.lesson.id}/questions", data={"body": body},
                           follow_redirects=True)
        assert page.status_code == 200 and ("不能为空" in page.text or "过长" in page.text)
    for body in ({"body": "x" * 30_000}, {"body": 5}, {}, {"body": "长" * 4001}):
        assert api.post(f"/api/v1/lessons/{classroom.lesson.id}/questions", json=body).status_code == 400
    assert _posts() == []


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_posting_is_rate_limited(classroom, client, auth):
    auth.login("member1")
    codes = [client.post(f"/community/lessons/{classroom.lesson.id}/questions", data={"body": f"问题{i}"}).status_code
             for i in range(12)]
    assert codes[:10] == [302] * 10 and codes[10:] == [429, 429]
    assert len(_posts()) == 10


def test_report_hide_and_what_others_see(classroom, client, auth, make_user, make_org):
    question = _ask(client, auth, classroom, body="不当言论")
    peer = make_user(org=classroom.org, username="peer1")
    admin_over = make_user(org=classroom.org, role="org_admin", username="orgadmin1")
    admin_elsewhere = make_user(org=make_org(), role="org_admin", username="orgadmin2")
    del peer, admin_over, admin_elsewhere
    auth.login("peer1")
    client.post(f"/community/posts/{question.id}/report", data={"reason": "言论不当"})
    client.post(f"/community/posts/{question.id}/report", data={"reason": "again"})  # counted once
    assert _post(question.id).reports == 1
    # a member may not hide
    page = client.post(f"/community/posts/{question.id}/hide", data={"hidden": "1"}, follow_redirects=True)
    assert "只有课程讲师和管理员" in page.text and _post(question.id).hidden_at is None
    auth.logout()
    auth.login("orgadmin2")  # an admin elsewhere neither sees the lesson nor moderates
    assert client.post(f"/community/posts/{question.id}/hide", data={"hidden": "1"}).status_code == 404
    assert "不当言论" not in client.get("/community/moderation").text
    auth.logout()
    auth.login("orgadmin1")  # an admin over the asker's organisation: the queue, then hide
    queue = client.get("/community/moderation").text
    assert "不当言论" in queue and "言论不当" in queue and "1 次举报" in queue
    client.post(f"/community/posts/{question.id}/hide", data={"hidden": "1"})
    assert _post(question.id).hidden_at is not None
    assert "不当言论" not in client.get("/community/moderation").text  # settled by hiding
    actions = [a for a, in db.session.execute(select(AuditEntry.action).where(AuditEntry.action.like("community.%")))]
    assert actions == ["community.post_hidden"]
    auth.logout()
    auth.login("peer1")
    page = client.get(f"/learn/lessons/{classroom.lesson.id}").text
    assert "已隐藏" in page and "不当言论" not in page
    auth.logout()
    auth.login("member1")  # the author still reads it
    assert "不当言论" in client.get(f"/learn/lessons/{classroom.lesson.id}").text
    auth.logout()
    auth.login("lecturer1")  # the lecturer moderates their course: reads it and unhides
    assert "不当言论" in client.get(f"/learn/lessons/{classroom.lesson.id}").text
    client.post(f"/community/posts/{question.id}/hide", data={"hidden": "0"})
    assert _post(question.id).hidden_at is None
    assert db.session.execute(select(PostReport.resolved_at)).scalar_one() is not None


def test_dismissing_reports_keeps_the_post(classroom, client, auth, api):
    question = _ask(client, auth, classroom)
    auth.login("lecturer1")
    answer_id = api.post(f"/api/v1/posts/{question.id}/responses", json={"body": "回答"}).get_json()["id"]
    auth.logout()
    auth.login("member1")
    assert api.post(f"/api/v1/posts/{answer_id}/report", json={"reason": "x"}).get_json() == {"reported": True}
    assert api.post(f"/api/v1/posts/{answer_id}/report", json={}).get_json() == {"reported": False}
    threads = api.get(f"/api/v1/lessons/{classroom.lesson.id}/questions").get_json()["items"]
    assert threads[0]["answered"] and threads[0]["children"][0]["kind"] == "answer"
    auth.logout()
    auth.login("lecturer1")
    assert "回答" in client.get("/community/moderation").text
    client.post(f"/community/posts/{answer_id}/dismiss")
    assert _post(answer_id).reports == 0
    assert _post(answer_id).hidden_at is None


def test_members_have_no_moderation_queue(classroom, client, auth):
    auth.login("member1")
    assert client.get("/community/moderation").status_code == 403
    assert client.get(f"/community/courses/{classroom.course.id}/questions").status_code == 404


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_posting_through_the_api_is_rate_limited_too(classroom, client, auth, api):
    auth.login("member1")
    url = f"/api/v1/lessons/{classroom.lesson.id}/questions"
    codes = [api.post(url, json={"body": f"问题{i}"}).status_code for i in range(11)]
    assert codes == [200] * 10 + [429]
    assert len(_posts()) == 10
