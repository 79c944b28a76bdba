"""The daily digest, against a real SMTP server: a member who chose it gets no e-mail per notification but
one a day (from NOTIFY.digest_hour) listing the unread ones since; nothing new, nothing sent; rerun, once."""
from __future__ import annotations

from datetime import datetime

import pytest

from elearn.extensions import db
from elearn.notify import services as notify
from elearn.notify import tasks
from elearn.policy import NOTIFY


@pytest.fixture
def app_config(smtp_server):
    return {"ELEARN_SMTP_URL": smtp_server.url, "ELEARN_BASE_URL": "https://elearn.example.org"}


@pytest.fixture
def member(make_user):
    user = make_user(username="reader")
    user.email = "reader@example.org"
    db.session.commit()
    notify.set_preferences(user, {"digest": True})
    return user


def test_one_digest_a_day_instead_of_one_mail_each(member, make_user, smtp_server, site_clock):
    other = make_user()
    other.email = "other@example.org"
    db.session.commit()
    site_clock.set_site(datetime(2026, 6, 10, 9, 0))
    notify.notify(member, "series_due", "专题即将截止", "请尽快完成。", link="/#series-1")
    notify.notify(member, "transfer_recorded", "组织关系转接已登记")
    read = notify.notify(member, "behind_pace", "已读的提醒")
    notify.mark_read(member, read.id)
    notify.notify(other, "series_due", "别人的提醒")  # no digest chosen: one e-mail at once
    assert [m["To"] for m in smtp_server.messages] == ["other@example.org"]

    tasks.daily_digest.enqueue()  # before the digest hour: nothing
    assert len(smtp_server.messages) == 1
    site_clock.set_site(datetime(2026, 6, 10, NOTIFY.digest_hour, 5))
    tasks.daily_digest.enqueue()
    tasks.daily_digest.enqueue()  # the hourly rerun
    site_clock.advance(3600)
    notify.notify(member, "quiz_graded", "晚到的通知")
    tasks.daily_digest.enqueue()
    digests = [m for m in smtp_server.messages if m["To"] == "reader@example.org"]
    assert len(digests) == 1
    text = digests[0].get_content()
    assert "专题即将截止" in text and "组织关系转接已登记" in text and "已读的提醒" not in text
    assert "https://elearn.example.org/#series-1" in text and "（2 条）" in digests[0]["Subject"]

    # The next day's digest lists what came since the last one.
    site_clock.set_site(datetime(2026, 6, 11, NOTIFY.digest_hour, 30))
    tasks.daily_digest.enqueue()
    digests = [m for m in smtp_server.messages if m["To"] == "reader@example.org"]
    assert len(digests) == 2 and "晚到的通知" in digests[1].get_content()
    assert "专题即将截止" not in digests[1].get_content()


def test_nothing_new_nothing_sent(member, smtp_server, site_clock):
    site_clock.set_site(datetime(2026, 6, 10, NOTIFY.digest_hour + 1, 0))
    tasks.daily_digest.enqueue()
    assert smtp_server.messages == []
    notify.notify(member, "series_due", "专题即将截止")
    notify.mark_all_read(member)
    tasks.daily_digest.enqueue()
    assert smtp_server.messages == []


def test_turning_the_digest_off_brings_back_one_mail_each(member, smtp_server):
    notify.notify(member, "series_due", "摘要中")
    assert smtp_server.messages == []
    notify.set_preferences(member, {"digest": False})
    notify.notify(member, "series_due", "即时")
    assert [m["Subject"] for m in smtp_server.messages] == ["即时"]
