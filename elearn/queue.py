"""The job queue: Huey on SQLite by default, on Redis when ``ELEARN_QUEUE_URL`` is set.

Job functions are declared with :func:`job` in ``elearn.jobs``; :func:`init_app` builds the Huey instance
from the config and registers them, so importing a module never creates a queue. Services enqueue by name
with :func:`enqueue`, and each job runs inside an application context.
"""
from __future__ import annotations

import logging
from typing import Callable

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab

log = logging.getLogger(__name__)

_JOBS: dict[str, tuple[Callable, dict]] = {}
_PERIODIC: dict[str, tuple[Callable, dict]] = {}


def job(name: str, **options) -> Callable[[Callable], Callable]:
    """Declare ``fn`` as the job ``name``; ``options`` go to ``huey.task`` (retries, retry_delay, …)."""
    def decorate(fn: Callable) -> Callable:
        _JOBS[name] = (fn, options)
        return fn
    return decorate


def periodic(name: str, **schedule) -> Callable[[Callable], Callable]:
    """Declare ``fn`` as a periodic job run by the consumer on a crontab ``schedule`` (minute="*/5", …)."""
    def decorate(fn: Callable) -> Callable:
        _PERIODIC[name] = (fn, schedule)
        return fn
    return decorate


def _in_app_context(app: Flask, fn: Callable, name: str) -> Callable:
    def run(*args, **kwargs):
        # A consumer thread has no app context; an immediate-mode call may already be inside one.
        from flask import has_app_context
        if has_app_context():
            return fn(*args, **kwargs)
        with app.app_context():
            return fn(*args, **kwargs)
    run.__name__ = name
    return run


def _build_huey(app: Flask):
    url = app.config["ELEARN_QUEUE_URL"]
    immediate = app.config["ELEARN_QUEUE_IMMEDIATE"]
    if immediate and not url:
        return MemoryHuey("elearn", immediate=True)
    if url.startswith("redis"):
        return RedisHuey("elearn", url=url, immediate=immediate)
    return SqliteHuey("elearn", filename=app.config["ELEARN_QUEUE_FILE"], immediate=immediate)


def init_app(app: Flask) -> None:
    from elearn import jobs  # noqa: F401  (declares the jobs)

    huey = _build_huey(app)
    tasks = {}
    for name, (fn, options) in _JOBS.items():
        tasks[name] = huey.task(name=name, **options)(_in_app_context(app, fn, name))
    for name, (fn, schedule) in _PERIODIC.items():
        tasks[name] = huey.periodic_task(crontab(**schedule), name=name)(_in_app_context(app, fn, name))
    from huey.signals import SIGNAL_INTERRUPTED

    @huey.signal(SIGNAL_INTERRUPTED)
    def requeue_interrupted(signal, task, *args, **kwargs):
        # The consumer stopped before the task finished: run it again rather than lose it.
        log.warning("job %s interrupted by shutdown; queued again", task.name)
        huey.enqueue(task)

    app.extensions["elearn_huey"] = huey
    app.extensions["elearn_tasks"] = tasks


def enqueue(name: str, *args, **kwargs):
    """Queue job ``name``; returns Huey's result handle."""
    return current_app.extensions["elearn_tasks"][name](*args, **kwargs)


def get_huey():
    return current_app.extensions["elearn_huey"]
