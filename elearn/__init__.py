"""elearn: an online classroom for party-member education."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, session
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from elearn.config import Config, TestingConfig
from elearn.extensions import babel, csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` limited to what an INTEGER primary key can hold (PostgreSQL's 32 bits); larger values
    simply do not match (404) instead of failing in the database driver."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def select_locale() -> str:
    """The user's remembered choice, then the session's, then Chinese (the default)."""
    from flask import current_app, has_request_context

    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    supported = current_app.config["ELEARN_LOCALES"]
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in supported:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory. ``test_config`` switches to :class:`TestingConfig` and overrides its values."""
    instance = os.environ.get("ELEARN_INSTANCE") or (test_config or {}).get("INSTANCE_PATH") \
        or str(ROOT / "instance")
    app = Flask(__name__, instance_path=instance, instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    os.makedirs(app.instance_path, exist_ok=True)
    config = TestingConfig(app.instance_path) if test_config is not None else Config(app.instance_path)
    app.config.from_object(config)
    if test_config:
        app.config.update(test_config)
    for key in ("ELEARN_DATA_DIR", "ELEARN_INDEX_DIR"):
        os.makedirs(app.config[key], exist_ok=True)

    # Ids beyond the primary keys' range cannot exist; unbounded they reach the database driver and fail there.
    app.url_map.converters["int"] = BoundedIntConverter
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # sqlite3's timeout is SQLite's busy timeout: writers queue for the lock this long, then fail.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {**options.get("connect_args", {}),
                                   "timeout": float(app.config["ELEARN_SQLITE_BUSY_TIMEOUT_S"])}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Times are stored naive in UTC; the database's now() defaults must agree whatever the server's zone.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        # (libpq's ``options`` replaces PGOPTIONS, so what the environment sets there is kept.)
        pg_options = f"{os.environ.get('PGOPTIONS', '')} -c TimeZone=UTC".strip()
        options["connect_args"] = {**options.get("connect_args", {}), "options": pg_options}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    from elearn import models  # noqa: F401  (register tables)
    from elearn import queue, storage
    from elearn.services.users import load_session_user

    login_manager.user_loader(load_session_user)
    from flask_babel import lazy_gettext as _l
    login_manager.login_message = _l("请先登录。")

    storage.init_app(app)
    queue.init_app(app)
    from elearn.services.analytics import init_tracking
    init_tracking()  # analytics snapshots learn of changes to accounts, series and lessons

    from elearn.web import register_web
    from elearn.api import bp as api_bp

    register_web(app)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API authenticates by bearer token or checks its own header; see elearn.api

    from elearn import cli
    cli.init_app(app)

    @app.context_processor
    def inject_globals():
        from elearn import policy
        from flask_babel import get_locale
        return {"policy": policy, "current_locale": str(get_locale())}

    @app.after_request
    def security_headers(response):
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

    return app
