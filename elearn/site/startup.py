"""What a web process needs before its first request, loaded once in gunicorn's master before it forks
(``elearn serve``; ``elearn/site/gunicorn_conf.py``), so no worker pays for it on a member's request.

Measured before: the first request after start took ~38 s on a loaded machine — every worker built jieba's
dictionary, opened the search index and read the catalogues itself, on its first search or page.
:func:`warm_up` does that in the master: the forked workers share the loaded memory (copy-on-write).
:func:`after_fork` then drops what must not be shared between processes: database connections (the pool is
disposed: each worker opens its own), the search index handles (each thread of a worker opens its own
searcher, as before) and the job queue's connections (Huey opens them per thread on first use).
"""
from __future__ import annotations

import logging
import time

from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _

import content
from elearn.extensions import db
from elearn.queue import get_huey
from elearn.search import services as search

log = logging.getLogger(__name__)


def warm_up(app: Flask) -> dict[str, float]:
    """Load jieba, the Traditional→Simplified table, the search index, the translations and the templates;
    return the seconds each took. Touches no database row and opens nothing a worker keeps."""
    took: dict[str, float] = {}

    def step(name: str, work) -> None:
        started = time.perf_counter()
        try:
            work()
        except Exception:  # a part that cannot load now loads on first use, as without preloading
            log.exception("warm-up step %s failed", name)
        took[name] = round(time.perf_counter() - started, 3)

    step("jieba", lambda: (content.jieba_tokenizer(), content.fold("黨員教育")))

    def open_index() -> None:
        with app.app_context():
            if not search.uses_database():
                with content.Searcher(search.get_index()) as searcher:  # read once, then closed
                    searcher.search("党员")

    step("search index", open_index)

    def catalogues() -> None:
        with app.test_request_context("/"):
            for locale in ("zh_Hans_CN", "en"):
                with force_locale(locale):
                    _("请先登录。")

    step("catalogues", catalogues)

    def templates() -> None:
        for name in app.jinja_env.list_templates(filter_func=lambda n: n.endswith(".html")):
            app.jinja_env.get_template(name)

    step("templates", templates)
    return took


def after_fork(app: Flask) -> None:
    """In a freshly forked worker: nothing opened by the master is used by the child."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)  # the master's connections stay the master's
        close = getattr(get_huey().storage, "close", None)  # SQLite storage: this thread's connection
        if close is not None:
            close()
