"""Who may call what: every /api/v1 operation called by five users — a member, a lecturer, an org admin of
another subtree, an org admin of the subtree that holds the objects, a site admin — each with a token of
every scope their role may hold, against the status declared for it in :data:`MATRIX`.

``OK`` is any 2xx. The objects (a course published to the subtree's sector with a lesson, a reading and a
quiz; the member's open quiz attempt and notification) belong to the subtree of the county; the other
admin's county is of another sector. Every operation must be in the table, and every /api/v1 URL rule of the
app must be a documented operation.
"""
import io
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from elearn import clock
from elearn.branch import meetings, stories, surveys
from elearn.community import discussion, notes
from elearn.http.api import API_PREFIX, OPERATIONS
from elearn.notify import announcements
from elearn.notify import services as notify
from elearn.quiz import services as quizzes
from elearn.readings import services as readings
from tests.api.conftest import bearer

OK = 200  # any 2xx
ROLES = ("member", "lecturer", "other_admin", "admin", "site_admin")
SCOPES = {"member": "read,study", "lecturer": "read,study", "other_admin": "read,study,admin",
          "admin": "read,study,admin", "site_admin": "read,study,admin"}
ALL_OK = (OK,) * 5
ADMIN_LIST = (403, 403, OK, OK, OK)  # admins only; the other subtree's admin gets their own (empty) list
ADMIN_OBJECT = (403, 403, 404, OK, OK)  # admins of the object's subtree only; outside it is not confirmed
MEMBER_CONTENT = (OK, OK, 404, OK, OK)  # published to the county's sector (and the lecturer's own course)
OWN = (OK, 404, 404, 404, 404)  # the member's own attempt or notification
BRANCH_RUN = (404, 404, 404, OK, OK)  # who runs the branch: its secretary or an admin over it (none of the others)
SURVEY_AUDIENCE = (OK, OK, 404, OK, 404)  # members now in the publishing county's subtree (not site admins)

# (method, rule relative to /api/v1) → expected status per role, in ROLES order.
MATRIX: dict[tuple[str, str], tuple[int, ...]] = {
    ("GET", "/openapi.json"): ALL_OK,
    ("GET", "/me"): ALL_OK,
    ("PATCH", "/me"): ALL_OK,
    ("GET", "/surveys"): ALL_OK,
    ("GET", "/surveys/<int:survey_id>"): SURVEY_AUDIENCE,
    ("POST", "/surveys/<int:survey_id>/response"): SURVEY_AUDIENCE,
    ("GET", "/me/credits"): ALL_OK,
    ("GET", "/me/points"): ALL_OK,
    ("GET", "/me/certificates"): ALL_OK,
    ("GET", "/verify/key"): ALL_OK,
    ("GET", "/verify/<code>"): (404,) * 5,  # no such certificate: the same answer for everyone
    ("GET", "/catalog"): ALL_OK,
    ("GET", "/series"): ALL_OK,
    ("GET", "/series/<int:series_id>"): MEMBER_CONTENT,
    ("GET", "/courses/<int:course_id>"): MEMBER_CONTENT,
    ("GET", "/lessons/<int:lesson_id>"): MEMBER_CONTENT,
    ("GET", "/readings"): ALL_OK,
    ("GET", "/readings/<int:reading_id>"): MEMBER_CONTENT,
    ("GET", "/search"): ALL_OK,
    ("GET", "/search/suggest"): ALL_OK,
    ("GET", "/readings/<int:reading_id>/find"): MEMBER_CONTENT,
    ("POST", "/lessons/<int:lesson_id>/progress"): MEMBER_CONTENT,
    ("GET", "/lessons/<int:lesson_id>/progress"): MEMBER_CONTENT,
    ("POST", "/lessons/<int:lesson_id>/attention"): (409, 409, 404, 409, 409),  # no prompt open
    ("POST", "/readings/<int:reading_id>/progress"): MEMBER_CONTENT,
    ("GET", "/readings/<int:reading_id>/progress"): MEMBER_CONTENT,
    ("GET", "/quizzes/<int:quiz_id>"): MEMBER_CONTENT,
    ("POST", "/quizzes/<int:quiz_id>/attempts"): MEMBER_CONTENT,
    ("GET", "/attempts/<int:attempt_id>"): OWN,
    ("POST", "/attempts/<int:attempt_id>/answers"): OWN,
    ("GET", "/notifications"): ALL_OK,
    ("GET", "/notifications/unread-count"): ALL_OK,
    ("POST", "/notifications/<int:notification_id>/read"): OWN,
    ("POST", "/notifications/read-all"): ALL_OK,
    ("GET", "/orgs"): ADMIN_LIST,
    ("GET", "/orgs/<int:org_id>"): ADMIN_OBJECT,
    ("GET", "/orgs/<int:org_id>/children"): ADMIN_OBJECT,
    ("GET", "/members"): ADMIN_LIST,
    ("GET", "/members/<int:user_id>"): ADMIN_OBJECT,
    ("POST", "/members"): ADMIN_OBJECT,
    ("PATCH", "/members/<int:user_id>"): ADMIN_OBJECT,
    ("POST", "/members/import"): ADMIN_OBJECT,
    ("GET", "/trainings"): ADMIN_LIST,
    ("POST", "/trainings"): ADMIN_OBJECT,
    ("GET", "/notes"): ALL_OK,
    ("POST", "/lessons/<int:lesson_id>/notes"): MEMBER_CONTENT,
    ("POST", "/readings/<int:reading_id>/notes"): MEMBER_CONTENT,
    ("DELETE", "/notes/<int:note_id>"): OWN,
    ("GET", "/bookmarks"): ALL_OK,
    ("PUT", "/bookmarks/<kind>/<int:target_id>"): MEMBER_CONTENT,
    ("DELETE", "/bookmarks/<kind>/<int:target_id>"): MEMBER_CONTENT,
    ("GET", "/lessons/<int:lesson_id>/questions"): MEMBER_CONTENT,
    ("POST", "/lessons/<int:lesson_id>/questions"): MEMBER_CONTENT,
    ("POST", "/posts/<int:post_id>/responses"): MEMBER_CONTENT,  # the subtree's admin moderates the asker
    ("POST", "/posts/<int:post_id>/report"): MEMBER_CONTENT,
    ("GET", "/courses/<int:course_id>/rating"): MEMBER_CONTENT,
    ("PUT", "/courses/<int:course_id>/rating"): (403, 403, 404, 403, 403),  # nobody has finished the course
    ("GET", "/analytics"): ADMIN_LIST,
    ("GET", "/analytics/orgs/<int:org_id>"): ADMIN_OBJECT,
    ("GET", "/branch/meetings"): BRANCH_RUN,
    ("POST", "/branch/meetings"): BRANCH_RUN,
    ("GET", "/branch/meetings/<int:meeting_id>"): BRANCH_RUN,
    ("PUT", "/branch/meetings/<int:meeting_id>/attendance"): BRANCH_RUN,
    ("POST", "/branch/meetings/<int:meeting_id>/hold"): BRANCH_RUN,
    ("GET", "/branch/cadence"): BRANCH_RUN,
    ("POST", "/me/courses/<int:course_id>"): MEMBER_CONTENT,
    ("DELETE", "/me/courses/<int:course_id>"): ALL_OK,  # removing what is not on my list changes nothing
    ("GET", "/notifications/preferences"): ALL_OK,
    ("PUT", "/notifications/preferences"): ALL_OK,
    ("GET", "/announcements"): ALL_OK,
    ("GET", "/announcements/<int:announcement_id>"): SURVEY_AUDIENCE,  # members now in the county's subtree
    ("GET", "/lectures"): ALL_OK,
    ("GET", "/lectures/<int:lecture_id>"): (404,) * 5,  # no such lecture: the same answer for everyone
    ("GET", "/models"): ALL_OK,
    ("GET", "/models/<int:story_id>"): MEMBER_CONTENT,  # a story published to the county's subtree
    ("POST", "/checkin"): (400,) * 5,  # a code no host screen showed: the same answer for everyone
}

PLAN = (Path(__file__).resolve().parent.parent / "data" / "plan-excerpt.txt").read_bytes()
SID = "12345678-aaaa-4bbb-8ccc-{:012d}"


@pytest.fixture
def world(tree, make_course, make_lesson, publish):
    course = make_course(lecturer=tree.lecturer)
    lesson = make_lesson(course=course, duration=60)
    series = publish([course], sectors=["rural"])
    reading = readings.upload(tree.site_admin, PLAN, "plan.txt", course=course)
    quizzes.add_question(tree.lecturer, course, kind="single", text="党的根本宗旨",
                         options=["全心全意为人民服务", "其他"], correct=[0])
    quiz = quizzes.save_quiz(tree.lecturer, course, title="小测", question_count=1, pass_percent=100, max_attempts=3,
                             time_limit_minutes=None, hours=0.5, published=True)
    attempt = quizzes.start_attempt(tree.member, quiz)
    study_note = notes.add_lesson_note(tree.member, lesson.id, 1.0, "笔记")
    question = discussion.ask(tree.member, lesson.id, "问题")
    note = notify.notify(tree.member, "announcement", "通知")
    now = clock.now_utc()
    meeting = meetings.create_meeting(tree.admin, tree.branch_a, kind="lecture", title="党课",
                                      starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1))
    survey = surveys.save(tree.admin, None, organisation=tree.county, title="需求调研")
    surveys.add_question(tree.admin, survey, kind="text", text="建议", required=False)
    surveys.publish(tree.admin, survey)
    announcement = announcements.publish(tree.admin, tree.county, title="通知", body="学习安排")
    story = stories.publish_story(tree.admin, tree.county, person_name="张三", person_org="一支部", title="榜样",
                                  body="事迹")
    return SimpleNamespace(announcement=announcement, story=story,
                           tree=tree, course=course, lesson=lesson, series=series, reading=reading, quiz=quiz,
                           attempt=attempt, notification=note, note=study_note, question=question, meeting=meeting,
                           survey=survey)


def _call(client, op, w, role, headers, n):
    """Call ``op`` as ``role`` with a valid request (so that only the access rules decide)."""
    t = w.tree
    params = {"note_id": w.note.id, "post_id": w.question.id, "kind": "course", "target_id": w.course.id,
              "lesson_id": w.lesson.id, "reading_id": w.reading.id, "course_id": w.course.id,
              "series_id": w.series.id, "quiz_id": w.quiz.id, "attempt_id": w.attempt.id,
              "notification_id": w.notification.id, "org_id": t.county.id, "user_id": t.member.id,
              "code": "NOSUCHCODE0000", "meeting_id": w.meeting.id, "survey_id": w.survey.id,
              "announcement_id": w.announcement.id, "story_id": w.story.id, "lecture_id": 2**31 - 1}
    url = API_PREFIX + op.rule
    for name, _conv in op.path_params:
        url = url.replace(f"<{_conv + ':' if _conv != 'string' else ''}{name}>", str(params[name]))
    key = (op.method, op.rule)
    kwargs: dict = {}
    if key in {("GET", "/search"), ("GET", "/search/suggest"), ("GET", "/readings/<int:reading_id>/find")}:
        url += "?q=党员"
    if key == ("GET", "/branch/meetings"):
        url += f"?org={t.branch_a.id}"
    if key == ("GET", "/branch/cadence"):
        url += f"?org={t.branch_a.id}&start=2026-01-01&end=2026-12-31"
    bodies = {
        ("POST", "/lessons/<int:lesson_id>/progress"): {
            "playback_session": SID.format(n), "seq": 0, "intervals": [[0, 5]], "position": 5, "rate": 1.0,
            "visible": True},
        ("POST", "/lessons/<int:lesson_id>/attention"): {"token": "0123456789abcdef"},
        ("POST", "/readings/<int:reading_id>/progress"): {
            "playback_session": SID.format(n), "seq": 0, "active_seconds": 5, "position": 0.1, "visible": True},
        ("POST", "/attempts/<int:attempt_id>/answers"): {"answers": []},
        ("POST", "/lessons/<int:lesson_id>/notes"): {"position_s": 1.0, "text": "笔记"},
        ("POST", "/readings/<int:reading_id>/notes"): {"paragraph": "p-1", "text": "笔记"},
        ("POST", "/lessons/<int:lesson_id>/questions"): {"body": "问题"},
        ("POST", "/posts/<int:post_id>/responses"): {"body": "回复"},
        ("POST", "/posts/<int:post_id>/report"): {"reason": "举报"},
        ("PUT", "/courses/<int:course_id>/rating"): {"stars": 5},
        ("POST", "/surveys/<int:survey_id>/response"): {"answers": []},
        ("PUT", "/notifications/preferences"): {"email": {"announcement": False}},
        ("PATCH", "/me"): {"age_friendly": True},
        ("POST", "/checkin"): {"code": "ABCDEF"},
        ("POST", "/members"): {"username": f"created_{role}", "name": "新党员", "password": "Qz7-long-Secret!",
                               "organisation_id": t.branch_a.id},
        ("PATCH", "/members/<int:user_id>"): {"category": "cadre"},
        ("POST", "/trainings"): {
            "organisation_id": t.branch_a.id, "title": "轮训", "organiser": "县委", "organiser_level": "county_above",
            "category": "political_theory", "starts_on": "2025-03-03", "ends_on": "2025-03-03", "days": 1,
            "attendees": ["member_a"]},
        ("POST", "/branch/meetings"): {"organisation_id": t.branch_a.id, "kind": "committee", "title": "支委会",
                                       "starts_at": "2026-05-06T09:00:00", "ends_at": "2026-05-06T10:00:00"},
        ("PUT", "/branch/meetings/<int:meeting_id>/attendance"): {
            "marks": [{"user_id": t.member.id, "status": "present"}]},
    }
    if key in bodies:
        kwargs["json"] = bodies[key]
    if key == ("POST", "/members/import"):
        kwargs["content_type"] = "multipart/form-data"
        kwargs["data"] = {"organisation_id": str(t.branch_a.id),
                          "file": (io.BytesIO(f"用户名,姓名\nimported_{role},导入\n".encode()), "m.csv")}
    return client.open(url, method=op.method, headers=headers, **kwargs)


def _passes(expected: int, status: int) -> bool:
    return 200 <= status < 300 if expected == OK else status == expected


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_each_role_as_declared(client, world, role):
    user = {"member": world.tree.member, "lecturer": world.tree.lecturer, "other_admin": world.tree.other_admin,
            "admin": world.tree.admin, "site_admin": world.tree.site_admin}[role]
    headers = bearer(user, SCOPES[role])
    wrong = []
    for n, op in enumerate(sorted(OPERATIONS, key=lambda o: (o.rule, o.method))):
        expected = MATRIX[(op.method, op.rule)][ROLES.index(role)]
        r = _call(client, op, world, role, headers, n)
        if not _passes(expected, r.status_code):
            wrong.append(f"{op.method} {op.rule}: expected {expected}, got {r.status_code} "
                         f"{r.get_data(as_text=True)[:160]}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


def test_the_matrix_covers_every_operation_and_no_other(app):  # the app imports every API module
    declared = {(op.method, op.rule) for op in OPERATIONS}
    assert declared - set(MATRIX) == set(), "operations missing from MATRIX"
    assert set(MATRIX) - declared == set(), "MATRIX names operations that do not exist"
    assert all(len(row) == len(ROLES) for row in MATRIX.values())


def test_every_api_url_rule_is_a_documented_operation(app):
    documented = {(API_PREFIX + op.rule, op.method) for op in OPERATIONS}
    served = {(rule.rule, method) for rule in app.url_map.iter_rules() if rule.rule.startswith(API_PREFIX + "/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served - documented == set(), "API routes not declared with elearn.http.api.operation (undocumented)"
    assert documented - served == set()
    spec_paths = {(path, method.upper()) for path, item in app.test_client().get(f"{API_PREFIX}/openapi.json")
                  .get_json()["paths"].items() for method in item}
    assert {(op.path, op.method) for op in OPERATIONS} == spec_paths
