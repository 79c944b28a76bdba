import pytest
from sqlalchemy import func, select

from elearn.courses import services as courses
from elearn.courses.models import Course
from elearn.errors import Forbidden, NotFound, ServiceError
from elearn.extensions import db


@pytest.fixture
def lecturer(make_user):
    return make_user("lect", role="lecturer")


def _course(user, **kw):
    values = dict(title="党章学习", description="", category="party_rules", innovative_theory=False,
                  declared_hours=None)
    values.update(kw)
    return courses.create_course(user, **values)


def test_lecturer_creates_draft_course(lecturer):
    course = _course(lecturer, title="  党章学习 ", declared_hours=2.0, innovative_theory=True)
    assert (course.title, course.status, course.lecturer_id) == ("党章学习", "draft", lecturer.id)
    assert course.innovative_theory and course.declared_hours == 2.0
    assert courses.studio_courses(lecturer) == [course]


def test_member_cannot_create(make_user):
    with pytest.raises(Forbidden):
        _course(make_user(role="member"))
    assert db.session.execute(select(func.count()).select_from(Course)).scalar_one() == 0


@pytest.mark.parametrize("kw", [{"title": "  "}, {"category": "nonsense"}, {"declared_hours": -1.0},
                                {"title": "长" * 201}])
def test_bad_course_input_creates_nothing(lecturer, kw):
    with pytest.raises(ServiceError):
        _course(lecturer, **kw)
    assert db.session.execute(select(func.count()).select_from(Course)).scalar_one() == 0


def test_other_lecturers_course_is_not_found_but_site_admin_sees_it(lecturer, make_user):
    course = _course(lecturer)
    with pytest.raises(NotFound):
        courses.studio_course(make_user(role="lecturer"), course.id)
    lesson = courses.add_lesson(lecturer, course, title="第一讲")
    with pytest.raises(NotFound):
        courses.studio_lesson(make_user(role="lecturer"), lesson.id)
    admin = make_user(role="site_admin")
    assert courses.studio_course(admin, course.id) is course
    assert course in courses.studio_courses(admin)


def test_lessons_are_appended_and_reordered(lecturer):
    course = _course(lecturer)
    a, b, c = (courses.add_lesson(lecturer, course, title=t) for t in ("一", "二", "三"))
    assert [les.position for les in (a, b, c)] == [0, 1, 2]
    courses.move_lesson(lecturer, c, -1)
    db.session.refresh(course)
    assert [les.title for les in course.lessons] == ["一", "三", "二"]
    courses.move_lesson(lecturer, a, -1)  # already first: stays
    db.session.refresh(course)
    assert [les.title for les in course.lessons] == ["一", "三", "二"]
    with pytest.raises(ServiceError):
        courses.reorder_lessons(lecturer, course, [a.id, b.id])  # must name every lesson once
    courses.reorder_lessons(lecturer, course, [b.id, a.id, c.id])
    db.session.refresh(course)
    assert [les.title for les in course.lessons] == ["二", "一", "三"]


def test_course_in_review_cannot_be_edited(lecturer, make_lesson):
    course = _course(lecturer)
    make_lesson(course=course, duration=60)
    courses.submit_for_review(lecturer, course)
    assert course.status == "in_review"
    with pytest.raises(Forbidden):
        courses.update_course(lecturer, course, title="改名", description="", category="party_rules",
                              innovative_theory=False, declared_hours=None)
    with pytest.raises(Forbidden):
        courses.add_lesson(lecturer, course, title="再加一讲")
    db.session.refresh(course)
    assert course.title == "党章学习" and len(course.lessons) == 1


def test_submit_needs_lessons_with_playable_video(lecturer, make_lesson):
    course = _course(lecturer)
    with pytest.raises(ServiceError) as empty:
        courses.submit_for_review(lecturer, course)
    assert empty.value.code == "no_lessons"
    make_lesson(course=course, duration=60)
    make_lesson(course=course, title="没有视频")
    with pytest.raises(ServiceError) as missing:
        courses.submit_for_review(lecturer, course)
    assert missing.value.code == "lesson_not_ready" and "没有视频" in missing.value.message
    assert db.session.get(Course, course.id).status == "draft"


def test_markdown_is_sanitised():
    html = str(courses.render_markdown("**重点** <script>alert(1)</script> [链接](javascript:alert(1))"))
    assert "<strong>重点</strong>" in html
    assert "<script" not in html and "javascript:" not in html
