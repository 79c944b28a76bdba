"""A published course with a lesson, its lecturer, a member in its audience and one outside it."""
from datetime import date

import pytest

from elearn.extensions import db
from elearn.ledger import services as ledger


class Classroom:
    def __init__(self, org, other_org, lecturer, member, outsider, course, lesson):
        self.org, self.other_org, self.lecturer = org, other_org, lecturer
        self.member, self.outsider, self.course, self.lesson = member, outsider, course, lesson


@pytest.fixture
def classroom(make_org, make_user, make_course, make_lesson, publish):
    org, other_org = make_org(sector="rural"), make_org(sector="enterprise.soe")
    lecturer = make_user(role="lecturer", username="lecturer1")
    course = make_course(lecturer=lecturer, title="新思想课程")
    lesson = make_lesson(course=course, duration=600, title="第一讲")
    publish([course], orgs=[(org, False)])
    member = make_user(org=org, username="member1")
    outsider = make_user(org=other_org, username="outsider1")
    return Classroom(org, other_org, lecturer, member, outsider, course, lesson)


@pytest.fixture
def finish():
    """Credit ``user`` for every lesson of ``course`` (finishing it as the ledger sees it)."""
    def do(user, course):
        for les in course.lessons:
            ledger.credit(user, kind="lesson", source_kind="lesson", source_id=les.id, hours=0.2,
                          title=les.title, category=course.category, innovative_theory=True, course_id=course.id,
                          credited_on=date(2026, 6, 1))
        db.session.commit()
    return do


class JsonApi:
    """The API as the app's page scripts call it with the session cookie: the CSRF header on writes."""

    def __init__(self, client):
        self.client = client

    def _headers(self):
        return {"X-CSRFToken": self.client.csrf_token()}

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, **kw):
        return self.client.post(url, headers=self._headers(), csrf=False, **kw)

    def put(self, url, **kw):
        return self.client.put(url, headers=self._headers(), **kw)

    def delete(self, url, **kw):
        return self.client.delete(url, headers=self._headers(), **kw)


@pytest.fixture
def api(client):
    return JsonApi(client)
