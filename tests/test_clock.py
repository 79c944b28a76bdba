"""The one clock: stored UTC, site time at the edges (Asia/Shanghai unless configured)."""
from datetime import date, datetime

from elearn import clock


def test_site_day_and_local_times_around_midnight(app):
    assert clock.site_date(datetime(2026, 5, 1, 15, 30)) == date(2026, 5, 1)  # 23:30 in Beijing
    assert clock.site_date(datetime(2026, 5, 1, 16, 30)) == date(2026, 5, 2)  # 00:30 in Beijing
    assert clock.from_site_local(datetime(2026, 5, 2, 0, 30)) == datetime(2026, 5, 1, 16, 30)
    assert clock.to_site(datetime(2026, 5, 1, 16, 30)).replace(tzinfo=None) == datetime(2026, 5, 2, 0, 30)
    assert clock.site_day_bounds(date(2026, 5, 2)) == (datetime(2026, 5, 1, 16, 0), datetime(2026, 5, 2, 16, 0))


def test_today_follows_the_site_zone(app, site_clock):
    site_clock.set_site(datetime(2026, 5, 2, 0, 30))
    assert clock.site_today() == date(2026, 5, 2) and clock.now_utc().date() == date(2026, 5, 1)
    app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
    assert clock.site_today() == date(2026, 5, 1)  # a site configured in UTC is still on the 1st
