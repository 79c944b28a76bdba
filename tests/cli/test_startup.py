"""Start-up: what gunicorn's master loads before it forks (elearn.site.startup, elearn/site/gunicorn_conf.py)
and what each worker then drops; ``elearn serve`` starts gunicorn with that configuration."""
from __future__ import annotations

import content.analysis
from elearn.extensions import db
from elearn.site import gunicorn_conf, startup
from elearn.site.cli import gunicorn_command


def test_serve_preloads_the_app_with_its_gunicorn_configuration():
    cmd = gunicorn_command("/venv/bin", "127.0.0.1", 8000, 3)
    assert cmd[:3] == ["/venv/bin/gunicorn", "-c", "python:elearn.site.gunicorn_conf"]
    assert cmd[-1] == "elearn:create_app()"
    assert gunicorn_conf.preload_app is True
    # Warmed up before the sockets are bound (on_starting), dropped after the fork (post_fork).
    assert callable(gunicorn_conf.on_starting) and callable(gunicorn_conf.post_fork)


def test_warm_up_loads_jieba_the_index_and_the_templates(app, caplog):
    took = startup.warm_up(app)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # every step loaded
    assert set(took) == {"jieba", "search index", "catalogues", "templates"}
    assert content.analysis._jieba_tokenizer is not None
    assert len(app.jinja_env.cache or {}) > 10


def test_after_fork_the_worker_opens_its_own_database_connections(app):
    with app.app_context():
        db.session.execute(db.select(1))
        db.session.remove()
        pool = db.engine.pool
        assert pool.checkedin() >= 1  # the "master" holds a connection
    startup.after_fork(app)
    with app.app_context():
        assert db.engine.pool is not pool and db.engine.pool.checkedin() == 0
    pool.dispose()  # in a real fork the master keeps and closes these; here the test is the master
