"""Jobs of a branch's life: the political birthdays' notices (every hour, so the site's new day is seen soon
after its midnight whatever the worker's zone; the notices themselves go out once a year per member), and the
hourly pruning of the check-in codes host screens have shown (each is good for two steps of a minute)."""
from __future__ import annotations

from elearn.branch import birthdays, checkin
from elearn.queue import periodic


@periodic(minute="5")
def notify_political_birthdays() -> int:
    """Notify the members whose political birthday is today (each once a year)."""
    return birthdays.notify_todays_birthdays()


@periodic(minute="35")
def prune_checkin_codes() -> int:
    """Forget the check-in codes no check-in accepts any more."""
    return checkin.prune_codes()
