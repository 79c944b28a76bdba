"""The job queue: Huey on SQLite by default, on Redis when ``ELEARN_QUEUE_URL`` is set.

A job is a :class:`Task` handle declared in its domain's ``tasks.py`` with :func:`task` (or :func:`periodic`
for one the consumer runs on a schedule) and enqueued by calling the handle::

    index_course.enqueue(course_id)

never by a string name, so a job nothing enqueues is visible (``tests/test_layout.py`` looks for every
handle's ``.enqueue(`` in the services). :func:`init_app` builds the Huey instance from the config and
registers the declared handles; ``create_app`` imports every domain's tasks first. Importing a module never
creates a queue. Each job runs inside an application context.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Result
from huey.signals import SIGNAL_INTERRUPTED

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Task:
    """A declared job. ``enqueue`` queues it (or runs it at once in immediate mode, as in the tests);
    ``run`` calls the function directly, in the caller's context."""

    fn: Callable[..., Any]
    name: str
    options: dict[str, Any] = field(default_factory=dict)
    schedule: dict[str, str] | None = None  # crontab fields of a periodic task

    def enqueue(self, *args: Any, **kwargs: Any) -> Result | None:
        """Queue the job with these arguments; returns Huey's result handle."""
        huey_task = current_app.extensions["elearn_tasks"][self.name]
        return huey_task(*args, **kwargs)

    def run(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Task {self.name}>"


_DECLARED: dict[str, Task] = {}


def _declare(fn: Callable[..., Any], options: dict[str, Any], schedule: dict[str, str] | None) -> Task:
    name = f"{fn.__module__.removeprefix('elearn.')}.{fn.__name__}"
    handle = Task(fn=fn, name=name, options=options, schedule=schedule)
    _DECLARED[name] = handle
    return handle


def task(**options: Any) -> Callable[[Callable[..., Any]], Task]:
    """Declare ``fn`` as a job; ``options`` go to ``huey.task`` (retries, retry_delay, retry_backoff)."""
    def decorate(fn: Callable[..., Any]) -> Task:
        return _declare(fn, options, None)
    return decorate


def periodic(**schedule: str) -> Callable[[Callable[..., Any]], Task]:
    """Declare ``fn`` as a job the consumer runs on a crontab ``schedule`` (minute="*/5", …). It can be
    enqueued too (the worker does so at start for the media sweep)."""
    def decorate(fn: Callable[..., Any]) -> Task:
        return _declare(fn, {}, dict(schedule))
    return decorate


def declared() -> list[Task]:
    """Every task declared so far (the domains' tasks modules imported by create_app)."""
    return list(_DECLARED.values())


def _in_app_context(app: Flask, fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        # A consumer thread has no app context; an immediate-mode call may already be inside one.
        if has_app_context():
            return fn(*args, **kwargs)
        with app.app_context():
            return fn(*args, **kwargs)
    run.__name__ = name
    return run


def _build_huey(app: Flask) -> Huey:
    url = app.config["ELEARN_QUEUE_URL"]
    immediate = app.config["ELEARN_QUEUE_IMMEDIATE"]
    if immediate and not url:
        return MemoryHuey("elearn", immediate=True)
    if url.startswith("redis"):
        return RedisHuey("elearn", url=url, immediate=immediate)
    return SqliteHuey("elearn", filename=app.config["ELEARN_QUEUE_FILE"], immediate=immediate)


def init_app(app: Flask) -> None:
    """Build the app's Huey and register every declared task on it."""
    huey = _build_huey(app)
    tasks = {}
    for handle in _DECLARED.values():
        run = _in_app_context(app, handle.fn, handle.name)
        if handle.schedule is not None:
            tasks[handle.name] = huey.periodic_task(crontab(**handle.schedule), name=handle.name)(run)
        else:
            tasks[handle.name] = huey.task(name=handle.name, **handle.options)(run)

    @huey.signal(SIGNAL_INTERRUPTED)
    def requeue_interrupted(signal: str, task: Any, *args: Any, **kwargs: Any) -> None:
        # The consumer stopped before the task finished: run it again rather than lose it.
        log.warning("job %s interrupted by shutdown; queued again", task.name)
        huey.enqueue(task)

    app.extensions["elearn_huey"] = huey
    app.extensions["elearn_tasks"] = tasks


def get_huey() -> Huey:
    return current_app.extensions["elearn_huey"]
