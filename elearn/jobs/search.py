"""Jobs: search index writes. One job writes at a time per index (content's writer waits for the lock,
``IndexBusyError`` after its timeout, then the job is retried)."""
from __future__ import annotations

from elearn.queue import job
from elearn.services import search

RETRIES = 5
RETRY_DELAY_S = 15


@job("search.index_course", retries=RETRIES, retry_delay=RETRY_DELAY_S)
def index_course(course_id: int) -> int:
    return search.write_course(course_id)


@job("search.index_lesson", retries=RETRIES, retry_delay=RETRY_DELAY_S)
def index_lesson(lesson_id: int) -> int:
    return search.write_lesson(lesson_id)


@job("search.index_reading", retries=RETRIES, retry_delay=RETRY_DELAY_S)
def index_reading(reading_id: int) -> int:
    return search.write_reading(reading_id)


@job("search.index_course_audience", retries=RETRIES, retry_delay=RETRY_DELAY_S)
def index_course_audience(course_id: int) -> int:
    return search.write_course_audience(course_id)


@job("search.remove", retries=RETRIES, retry_delay=RETRY_DELAY_S)
def remove(kind: str, object_id: int) -> int:
    return search.write_remove(kind, object_id)
