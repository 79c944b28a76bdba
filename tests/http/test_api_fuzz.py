"""Fuzz the JSON API from its own OpenAPI description (schemathesis): no input makes it answer 500.

Every operation, member and admin ones alike, is called with a site admin's token holding every scope (read,
study, admin), so that the generated requests pass authentication and scopes and reach the handlers. A few
examples per operation keep the run short; the property is crash-freedom, not coverage of the rules (the
route x role matrix in tests/api checks those)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from elearn import create_app
from elearn.extensions import db


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory):
    from elearn.auth import tokens
    from elearn.courses.models import Course, Lesson
    from elearn.media.models import MediaAsset
    from elearn.orgs import members as users
    from elearn.orgs import services as orgs

    app = create_app({"INSTANCE_PATH": str(tmp_path_factory.mktemp("fuzz"))})
    with app.app_context():
        db.drop_all()
        db.create_all()
        org = orgs.create(None, name="模糊测试党委", kind="committee", sector="rural")
        orgs.create(None, name="模糊测试支部", kind="branch", sector="rural", parent=org)
        admin = users.create(None, username="fuzzer", name="模糊", password="Fuzz1ng-pass", organisation=org,
                             role="site_admin")
        users.create(None, username="fuzzmember", name="党员", password="Fuzz1ng-pass", organisation=org)
        lecturer = users.create(None, username="fuzzlect", name="讲师", password="Fuzz1ng-pass", organisation=org,
                                role="lecturer")
        course = Course(title="课程", lecturer=lecturer, status="approved", category="political_theory")
        db.session.add(course)
        db.session.flush()
        lesson = Lesson(course=course, title="第一讲")
        db.session.add(lesson)
        db.session.flush()
        asset = MediaAsset(lesson_id=lesson.id, uploaded_by_id=lecturer.id, status="ready", duration_s=300.0)
        db.session.add(asset)
        db.session.flush()
        lesson.asset_id = asset.id
        db.session.commit()
        token = tokens.issue(admin, "fuzz", scopes="read,study,admin")
        yield {"app": app, "token": token}
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _spec() -> dict:
    import elearn.app  # noqa: F401  (imports every API module, which declare their operations)
    from elearn.http.openapi import build_spec
    return build_spec()


# The spec is plain data built from the declared operations, so no app is needed to load it.
schema = schemathesis.openapi.from_dict(_spec())


@schema.parametrize()
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_never_answers_500(case, fuzz_env):
    from schemathesis.transport.wsgi import WSGI_TRANSPORT
    from werkzeug.test import Client
    with fuzz_env["app"].app_context():
        response = WSGI_TRANSPORT.send(case, app=fuzz_env["app"], session=Client(fuzz_env["app"]), base_url="/api/v1",
                                       headers={"Authorization": f"Bearer {fuzz_env['token']}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}: " \
                                       f"{response.text[:300]}"
    if case.method == "GET" and case.operation.path == "/me":
        assert response.status_code == 200  # the token really authenticates: the fuzzing reaches the handlers
    if case.method == "GET" and case.operation.path in ("/members", "/orgs", "/trainings"):
        assert response.status_code in (200, 304, 400, 404)  # the admin scope and role pass: the admin handlers run
    if response.status_code >= 400:
        body = response.json()
        assert set(body["error"]) >= {"code", "message"}
