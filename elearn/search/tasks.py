"""Jobs: search index writes. One job writes at a time per index (content's writer waits for the lock,
``IndexBusyError`` after its timeout, then the job is retried)."""
from __future__ import annotations

from elearn.queue import periodic, task
from elearn.search import services as search

RETRIES = 5
RETRY_DELAY_S = 15


@task(retries=RETRIES, retry_delay=RETRY_DELAY_S)
def index_course(course_id: int) -> int:
    return search.write_course(course_id)


@task(retries=RETRIES, retry_delay=RETRY_DELAY_S)
def index_lesson(lesson_id: int) -> int:
    return search.write_lesson(lesson_id)


@task(retries=RETRIES, retry_delay=RETRY_DELAY_S)
def index_reading(reading_id: int) -> int:
    return search.write_reading(reading_id)


@task(retries=RETRIES, retry_delay=RETRY_DELAY_S)
def index_course_audience(course_id: int) -> int:
    return search.write_course_audience(course_id)


@task(retries=RETRIES, retry_delay=RETRY_DELAY_S)
def remove(kind: str, object_id: int) -> int:
    return search.write_remove(kind, object_id)


@periodic(minute="*/15")
def rebuild_if_outdated() -> int:
    """After an upgrade that changed the index format or the text analysis, rebuild the whoosh index (the
    worker also runs this when it starts)."""
    return search.rebuild_if_outdated()
