"""The application factory: configuration, extensions, every domain's models, tasks, blueprints, commands and
the site-wide request rules. (``elearn.create_app`` calls :func:`create_app` here.)"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, Response
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from elearn import cli, policy, queue, storage
from elearn.access import Role
from elearn.analytics import api as analytics_api
from elearn.analytics import evaluation_views, tracking
from elearn.analytics import models as analytics_models
from elearn.analytics import tasks as analytics_tasks
from elearn.analytics import views as analytics_views
from elearn.audit import models as audit_models
from elearn.audit import services as audit_services
from elearn.audit import views as audit_views
from elearn.auth import age_friendly_views, sso_views, two_factor_views
from elearn.auth import api as auth_api
from elearn.auth import models as auth_models
from elearn.auth import services as auth_services
from elearn.auth import tasks as auth_tasks
from elearn.auth import views as auth_views
from elearn.branch import api as branch_api
from elearn.branch import (
    birthday_views,
    checkin_api,
    checkin_models,
    checkin_views,
    lecture_api,
    lecture_models,
    lecture_views,
    meeting_models,
    story_api,
    story_models,
    story_views,
    survey_api,
    survey_models,
    survey_tasks,
    survey_views,
)
from elearn.branch import models as branch_models
from elearn.branch import tasks as branch_tasks
from elearn.branch import views as branch_views
from elearn.community import api as community_api
from elearn.community import models as community_models
from elearn.community import views as community_views
from elearn.config import Config, TestingConfig
from elearn.courses import api as courses_api
from elearn.courses import learn_views, publish_views, studio_views
from elearn.courses import models as courses_models
from elearn.extensions import ID_MAX, babel, csrf, db, limiter, login_manager, migrate
from elearn.http import openapi, static_assets
from elearn.http.api import API_BLUEPRINTS
from elearn.http.errors import register_error_handlers
from elearn.http.inputs import register_input_guard
from elearn.http.nav import register_navigation
from elearn.i18n import local_time, select_locale
from elearn.ledger import api as ledger_api
from elearn.ledger import models as ledger_models
from elearn.ledger import tasks as ledger_tasks
from elearn.ledger import verify_api, verify_views
from elearn.ledger import views as ledger_views
from elearn.media import models as media_models
from elearn.media import tasks as media_tasks
from elearn.media import views as media_views
from elearn.notify import api as notify_api
from elearn.notify import models as notify_models
from elearn.notify import tasks as notify_tasks
from elearn.notify import views as notify_views
from elearn.orgs import api as orgs_api
from elearn.orgs import import_views
from elearn.orgs import models as orgs_models
from elearn.orgs import views as orgs_views
from elearn.points import api as points_api
from elearn.points import models as points_models
from elearn.points import views as points_views
from elearn.quiz import api as quiz_api
from elearn.quiz import models as quiz_models
from elearn.quiz import views as quiz_views
from elearn.readings import api as readings_api
from elearn.readings import models as readings_models
from elearn.readings import views as readings_views
from elearn.search import api as search_api
from elearn.search import models as search_models
from elearn.search import tasks as search_tasks
from elearn.search import tracking as search_tracking
from elearn.search import views as search_views
from elearn.site import pwa_views
from elearn.site import views as site_views
from elearn.study import api as study_api
from elearn.study import models as study_models
from elearn.training import api as training_api
from elearn.training import models as training_models
from elearn.training import plan_views, roster_views
from elearn.training import views as training_views
from elearn.xapi import models as xapi_models
from elearn.xapi import tasks as xapi_tasks

ROOT = Path(__file__).resolve().parent.parent

# Every domain's models (their tables are registered before the first query) and tasks (init_app registers
# their handles on the queue).
MODELS = (orgs_models, auth_models, audit_models, courses_models, media_models, study_models, ledger_models,
          quiz_models, readings_models, training_models, analytics_models, search_models, notify_models,
          xapi_models, branch_models, checkin_models, meeting_models, community_models,
          lecture_models, story_models, survey_models, points_models)
TASKS = (media_tasks, search_tasks, analytics_tasks, ledger_tasks, notify_tasks, xapi_tasks, auth_tasks, branch_tasks,
         survey_tasks)

# Page blueprints, in the order of the top navigation.
PAGES = (auth_views, two_factor_views, site_views, ledger_views, verify_views, learn_views, quiz_views, search_views,
         readings_views, studio_views, media_views, publish_views, training_views, import_views, plan_views,
         analytics_views, evaluation_views, roster_views, orgs_views, audit_views, notify_views, sso_views,
         community_views, checkin_views, birthday_views, lecture_views, story_views, survey_views, branch_views,
         age_friendly_views, pwa_views, points_views)
APIS = (auth_api, study_api, ledger_api, verify_api, search_api, courses_api, readings_api, quiz_api, notify_api,
        orgs_api, training_api, analytics_api, community_api, checkin_api, lecture_api, story_api, survey_api,
        branch_api, points_api, openapi)


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` limited to what an INTEGER primary key can hold (PostgreSQL's 32 bits); larger values
    simply do not match (404) instead of failing in the database driver."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


def _engine_options(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    if uri.startswith("sqlite"):
        # sqlite3's timeout is SQLite's busy timeout: writers queue for the lock this long, then fail.
        options["connect_args"] = {**options.get("connect_args", {}),
                                   "timeout": float(app.config["ELEARN_SQLITE_BUSY_TIMEOUT_S"])}
    elif uri.startswith("postgresql"):
        # Times are stored naive in UTC; the database's now() defaults must agree whatever the server's zone.
        # (libpq's ``options`` replaces PGOPTIONS, so what the environment sets there is kept.)
        pg_options = f"{os.environ.get('PGOPTIONS', '')} -c TimeZone=UTC".strip()
        options["connect_args"] = {**options.get("connect_args", {}), "options": pg_options}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: data:; "
            "style-src 'self' 'unsafe-inline'; script-src 'self'; worker-src 'self' blob:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config["ELEARN_HTTPS"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory. ``test_config`` switches to :class:`TestingConfig` and overrides its values."""
    instance = os.environ.get("ELEARN_INSTANCE") or (test_config or {}).get("INSTANCE_PATH") \
        or str(ROOT / "instance")
    app = Flask("elearn", instance_path=instance, instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    os.makedirs(app.instance_path, exist_ok=True)
    config = TestingConfig(app.instance_path) if test_config is not None else Config(app.instance_path)
    app.config.from_object(config)
    if test_config:
        app.config.update(test_config)
    for key in ("ELEARN_DATA_DIR", "ELEARN_INDEX_DIR"):
        os.makedirs(app.config[key], exist_ok=True)

    if app.config["ELEARN_PROXY_COUNT"]:
        # Behind nginx (deploy/nginx/elearn.conf) the client's address and scheme are the proxies' X-Forwarded-*.
        hops = app.config["ELEARN_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    # Ids beyond the primary keys' range cannot exist; unbounded they reach the database driver and fail there.
    app.url_map.converters["int"] = BoundedIntConverter
    _engine_options(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    register_input_guard(app)  # first: no later hook (CSRF, tokens, limits) sees a control character
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.login_message = _l("请先登录。")
    login_manager.user_loader(auth_services.load_session_user)

    storage.init_app(app)
    queue.init_app(app)
    tracking.init_tracking()  # analytics snapshots learn of changes to accounts, series and lessons
    search_tracking.init_tracking()  # PostgreSQL search documents are written in the content's transaction

    for module in PAGES:
        app.register_blueprint(module.bp)
    for module in APIS:
        app.register_blueprint(module.bp)
    for bp in API_BLUEPRINTS:
        csrf.exempt(bp)  # the API authenticates by bearer token or checks the X-CSRFToken header
    auth_api.init_app(app)
    limiter.init_app(app)  # after the API's authentication: limits per user need to know the token's user
    register_navigation(app, [entry for module in PAGES for entry in getattr(module, "NAV", ())])
    register_error_handlers(app)
    static_assets.init_app(app)  # ?v=<content hash> on every static URL, long cache and gzip for those
    app.jinja_env.filters["localtime"] = local_time
    cli.init_app(app)

    @app.context_processor
    def inject_globals() -> dict[str, Any]:
        # Site admins see open security alerts on every page until one of them handles them.
        alerts = audit_services.open_alert_count() if getattr(current_user, "role", None) == Role.SITE_ADMIN else 0
        return {"policy": policy, "Role": Role, "current_locale": str(get_locale()), "security_alert_count": alerts}

    _security_headers(app)
    return app
