"""Walk every route as anonymous, member, lecturer, org admin of another subtree and site admin.

The rule for each answer: anonymous users are sent to the login page (pages) or get 401 (API); nobody gets a
500; members get 403/404 from every administrative area; objects outside a user's reach answer 404 (never
200), so ids cannot be probed.
"""
from __future__ import annotations

import re

import pytest

from elearn.extensions import db

PUBLIC = {"auth.login", "auth.set_locale", "main.healthz", "openapi.openapi", "static"}
# Certificates are checked by anyone who holds one (elearn.ledger.verify_views and verify_api).
PUBLIC |= {"verify.key", "verify.key_pem", "verify.page", "verify_api.key_api", "verify_api.verify_api"}
# Signing in through a provider starts and ends signed out (elearn.auth.sso_views).
PUBLIC |= {"sso.start", "sso.callback"}
# A forgotten password is reset signed out (elearn.auth.reset): the request form and the e-mailed link.
PUBLIC |= {"auth.reset_request", "auth.reset_password"}
# The installable site (elearn.site.pwa_views): browsers fetch the manifest without cookies, and the service
# worker keeps the offline page signed out.
PUBLIC |= {"pwa.manifest", "pwa.service_worker", "pwa.offline"}
ADMIN_AREAS = ("/admin", "/publish", "/analytics", "/org", "/roster", "/training", "/studio")
MISSING = 987654


@pytest.fixture
def world(make_org, make_user, make_course, make_lesson, publish):
    tree_a = make_org("甲党委", sector="rural")
    branch_a = make_org("甲支部", kind="branch", parent=tree_a, sector="rural")
    tree_b = make_org("乙党委", sector="community")
    users = {
        "member": make_user("walk_member", org=branch_a),
        "lecturer": make_user("walk_lecturer", org=tree_a, role="lecturer"),
        "other_admin": make_user("walk_other_admin", org=tree_b, role="org_admin"),
        "outsider": make_user("walk_outsider", org=tree_b),
        "site_admin": make_user("walk_site_admin", org=tree_a, role="site_admin"),
    }
    course = make_course(lecturer=users["lecturer"])
    lesson = make_lesson(course=course, duration=120)
    publish([course], orgs=[(tree_a, True)])
    ids = {"course_id": course.id, "lesson_id": lesson.id, "asset_id": lesson.asset_id,
           "user_id": users["member"].id}
    return {"users": users, "ids": ids, "course": course, "lesson": lesson, "branch_id": branch_a.id}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        yield rule


def _url(rule, ids) -> str:
    def fill(match):
        name = match.group(2)
        if name == "filename":
            return "master.m3u8"
        if name == "locale":
            return "en"
        return str(ids.get(name, MISSING))
    return re.sub(r"<(?:(\w+):)?(\w+)>", fill, rule.rule)


def test_anonymous_is_sent_to_login_everywhere(app, client, world):
    token = client.csrf_token()
    for rule in _routes(app):
        if rule.endpoint in PUBLIC:
            continue
        url = _url(rule, world["ids"])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            kwargs = {"data": {"csrf_token": token}} if method != "GET" else {}
            r = client.open(url, method=method, headers={"X-CSRFToken": token}, **kwargs)
            where = f"{method} {url}"
            if url.startswith("/api/"):
                assert r.status_code == 401, where
            else:
                assert r.status_code in (302, 401), where
                if r.status_code == 302:
                    assert "/auth/login" in r.headers["Location"], where


@pytest.mark.parametrize("who", ["member", "lecturer", "other_admin", "outsider", "site_admin"])
def test_every_get_answers_without_server_error(app, client, auth, world, who):
    auth.login(world["users"][who].username)
    for rule in _routes(app):
        if "GET" not in rule.methods or rule.endpoint == "auth.set_locale":
            continue
        url = _url(rule, world["ids"])
        r = client.get(url)
        assert r.status_code < 500, f"{who}: GET {url} -> {r.status_code}"
        if who in ("member", "outsider") and url.startswith(ADMIN_AREAS):
            assert r.status_code in (403, 404), f"{who}: GET {url} -> {r.status_code}"


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_members_cannot_post_to_admin_areas(app, client, auth, world, who):
    auth.login(world["users"][who].username)
    token = client.csrf_token()
    for rule in _routes(app):
        url = _url(rule, world["ids"])
        if not url.startswith(ADMIN_AREAS):
            continue
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            r = client.open(url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
            assert r.status_code in (403, 404), f"{who}: {method} {url} -> {r.status_code}"


def test_objects_outside_reach_answer_404(client, auth, world):
    ids = world["ids"]
    auth.login("walk_outsider")
    for url in (f"/learn/courses/{ids['course_id']}", f"/learn/lessons/{ids['lesson_id']}",
                f"/learn/media/{ids['asset_id']}/master.m3u8", f"/api/v1/lessons/{ids['lesson_id']}/progress"):
        assert client.get(url).status_code == 404, url
    auth.logout()
    auth.login("walk_other_admin")
    assert client.get(f"/admin/members/{ids['user_id']}").status_code == 404
    # Another subtree's branch ranking is not confirmed to exist (elearn.points.ranking).
    assert client.get(f"/points/organisations/{world['branch_id']}/ranking").status_code == 404
    auth.logout()
    auth.login("walk_member")
    assert client.get(f"/learn/courses/{ids['course_id']}").status_code == 200
    assert client.get(f"/admin/members/{ids['user_id']}").status_code == 403


def test_forged_progress_for_invisible_lesson_changes_nothing(client, auth, world):
    from elearn.ledger import requirements
    auth.login("walk_outsider")
    r = client.post(f"/api/v1/lessons/{world['ids']['lesson_id']}/progress",
                    json={"playback_session": "00000000-0000-4000-8000-000000000000", "seq": 1,
                          "intervals": [[0, 100]], "position": 100, "rate": 1, "visible": True},
                    headers={"X-CSRFToken": client.csrf_token()})
    assert r.status_code == 404
    db.session.expire_all()
    assert requirements.status(world["users"]["outsider"]).total_hours == 0


def test_lecturer_tools_answer_only_the_courses_lecturer_and_site_admins(client, auth, world):
    """The question import, its template and the learner statistics (issue 20): 200 for the course's lecturer
    and site admins, 403/404 for everyone else."""
    cid = world["ids"]["course_id"]
    urls = (f"/quiz/course/{cid}/import", f"/quiz/course/{cid}/import/template.xlsx",
            f"/studio/courses/{cid}/learners")
    for who in ("lecturer", "site_admin", "member", "other_admin", "outsider"):
        auth.login(world["users"][who].username)
        for url in urls:
            status = client.get(url).status_code
            assert status == 200 if who in ("lecturer", "site_admin") else status in (403, 404), (who, url, status)
        auth.logout()
