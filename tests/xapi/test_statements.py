"""The statement builders' formats (xAPI durations and timestamps) on their own."""
from datetime import datetime

import pytest

from elearn.xapi import statements


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "PT0S"), (0.004, "PT0S"), (59.999, "PT1M"), (60, "PT1M"), (2700, "PT45M"), (3723.5, "PT1H2M3.5S"),
    (36000.25, "PT10H0.25S"), (-3, "PT0S"),
])
def test_durations_are_iso_8601_to_a_hundredth(seconds, text):
    assert statements.duration(seconds) == text


def test_timestamps_are_utc_to_the_millisecond():
    assert statements.timestamp(datetime(2025, 5, 1, 2, 3, 4, 567890)) == "2025-05-01T02:03:04.567Z"


def test_an_unknown_kind_is_an_untyped_activity():
    assert statements.activity("http://x", "meeting", 3) == {
        "objectType": "Activity", "id": "http://x/xapi/activities/meeting/3"}
