"""E-mail delivery through the outbox, against a real SMTP server (aiosmtpd): sent by a job, retried with
back-off by the periodic sweep while the server is down, delivered once when it is back."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from elearn.extensions import db
from elearn.notify import mail, tasks
from elearn.notify import services as notify
from elearn.notify.models import OutboxEmail
from elearn.policy import MAIL


@pytest.fixture
def app_config(smtp_server):
    return {"ELEARN_SMTP_URL": smtp_server.url, "ELEARN_BASE_URL": "https://elearn.example.org",
            "ELEARN_SMTP_TIMEOUT_S": 2.0}


def _row() -> OutboxEmail:
    db.session.expire_all()
    return db.session.execute(select(OutboxEmail)).scalar_one()


def test_a_message_is_sent_at_once_with_its_text_and_sender(app, smtp_server):
    notify.send_mail("reader@example.org", "学习提醒", "请完成本月的学习任务。")
    [message] = smtp_server.messages
    assert message["From"] == app.config["ELEARN_MAIL_FROM"] and message["To"] == "reader@example.org"
    assert message["Subject"] == "学习提醒" and "本月的学习任务" in message.get_content()
    row = _row()
    assert (row.status, row.attempts, row.body) == ("sent", 1, None)


def test_smtp_down_then_up_the_message_arrives_once(smtp_server, site_clock):
    smtp_server.stop()
    notify.send_mail("reader@example.org", "通知", "正文")
    row = _row()
    assert (row.status, row.attempts) == ("pending", 1) and row.last_error
    assert row.next_attempt_at == site_clock.utc + timedelta(seconds=MAIL.retry_delay_s)

    tasks.sweep_outbox.enqueue()  # before the back-off has passed: not tried again
    assert _row().attempts == 1
    site_clock.advance(MAIL.retry_delay_s)
    tasks.sweep_outbox.enqueue()  # still down: the wait doubles
    row = _row()
    assert row.attempts == 2 and row.next_attempt_at == site_clock.utc + timedelta(
        seconds=MAIL.retry_delay_s * MAIL.retry_backoff)

    smtp_server.start()
    site_clock.advance(MAIL.retry_delay_s * MAIL.retry_backoff)
    tasks.sweep_outbox.enqueue()
    tasks.sweep_outbox.enqueue()
    tasks.deliver_email.enqueue(row.id)  # a late duplicate of the job changes nothing
    assert len(smtp_server.messages) == 1
    row = _row()
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)


def test_a_message_is_given_up_after_the_policy_attempts(smtp_server, site_clock):
    smtp_server.stop()
    notify.send_mail("reader@example.org", "通知", "正文")
    for _ in range(MAIL.max_attempts + 2):
        site_clock.advance(24 * 3600)
        tasks.sweep_outbox.enqueue()
    row = _row()
    assert (row.status, row.attempts) == ("failed", MAIL.max_attempts)
    smtp_server.start()
    site_clock.advance(24 * 3600)
    tasks.sweep_outbox.enqueue()
    assert smtp_server.messages == [] and notify.outbox_counts() == {"failed": 1}


def test_an_attempt_under_way_holds_its_message(smtp_server, site_clock):
    smtp_server.stop()
    row = notify.send_mail("reader@example.org", "通知", "正文")
    smtp_server.start()
    site_clock.advance(MAIL.retry_delay_s)
    # Another worker claimed the message and died mid-send: nobody sends it until its claim runs out.
    assert notify._claim(row.id) is not None
    tasks.sweep_outbox.enqueue()
    assert smtp_server.messages == []
    site_clock.advance(MAIL.claim_seconds)
    tasks.sweep_outbox.enqueue()
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("app_config", [{}])
def test_without_smtp_the_outbox_keeps_the_message(app_config, site_clock):
    notify.send_mail("reader@example.org", "通知", "正文")
    tasks.sweep_outbox.enqueue()
    row = _row()
    assert row.status == "pending" and "ELEARN_SMTP_URL" in (row.last_error or "")


def test_smtp_urls():
    assert mail.parse_url("smtp://mail.example.org") == mail.SmtpServer("mail.example.org", 25, "plain")
    assert mail.parse_url("smtp+starttls://u%40x:p%3Aw@relay:2525") == \
        mail.SmtpServer("relay", 2525, "starttls", "u@x", "p:w")
    assert mail.parse_url("smtps://relay").port == 465
    for bad in ("http://relay", "smtp://", "smtp://relay:port"):
        with pytest.raises(mail.MailConfigError):
            mail.parse_url(bad)
