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


def _self_signed(folder):
    """A certificate for 127.0.0.1 (and its key), written to ``folder``: the SMTP server's, and the CA the app
    is told to trust."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "smtp.pem", folder / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def tls_smtp(tmp_path):
    import ssl

    from tests.conftest import SmtpServer

    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    server = SmtpServer(tls_context=context, credentials=("mailer@site", "p@ss:word"))
    server.ca_file = cert_file
    server.start()
    yield server
    server.stop()


def test_starttls_and_login_from_the_url(app, tls_smtp, smtp_server):
    app.config.update(ELEARN_SMTP_URL=f"smtp+starttls://mailer%40site:p%40ss%3Aword@127.0.0.1:{tls_smtp.port}",
                      ELEARN_SMTP_CA_FILE=str(tls_smtp.ca_file))
    notify.send_mail("reader@example.org", "加密投递", "正文")
    assert len(tls_smtp.messages) == 1 and _row().status == "sent"

    # A wrong password, or a certificate the app does not trust: not sent, retried later, the reason recorded.
    app.config.update(ELEARN_SMTP_URL=f"smtp+starttls://mailer%40site:wrong@127.0.0.1:{tls_smtp.port}")
    notify.send_mail("reader@example.org", "密码错", "正文")
    app.config.update(ELEARN_SMTP_CA_FILE="")
    notify.send_mail("reader@example.org", "不可信", "正文")
    db.session.expire_all()
    failed = db.session.execute(select(OutboxEmail).where(OutboxEmail.status == "pending")
                                .order_by(OutboxEmail.id)).scalars().all()
    assert [r.subject for r in failed] == ["密码错", "不可信"]
    # (aiosmtpd answers a refused login slowly: past the 2-second timeout here, which ends the attempt too.)
    assert failed[0].last_error.startswith(("SMTPAuthenticationError", "SMTPServerDisconnected"))
    assert failed[1].last_error.startswith("SSLCertVerificationError")
    assert len(tls_smtp.messages) == 1


def test_withdrawing_an_announcement_withdraws_its_unsent_emails(smtp_server, site_clock, make_org, make_user):
    """SMTP is down while an announcement's e-mails go out; the admin withdraws it. When the server is back, the
    sweep sends the other message that waited with them, and none of the announcement's."""
    from elearn.notify import announcements

    root = make_org(name="市委")
    admin = make_user(org=root, role="org_admin")
    for i in range(3):
        reader = make_user(org=root)
        reader.email = f"reader{i}@example.org"
        notify.set_preferences(reader, {"announcement": True})
    smtp_server.stop()
    row = announcements.publish(admin, root, title="学习安排", body="正文")
    notify.send_mail("other@example.org", "另一封", "正文")
    assert notify.outbox_counts() == {"pending": 4}

    announcements.withdraw(admin, row.id)
    assert notify.outbox_counts() == {"pending": 1, "withdrawn": 3}
    db.session.expire_all()
    assert all(r.body is None for r in db.session.execute(
        select(OutboxEmail).where(OutboxEmail.status == "withdrawn")).scalars())

    smtp_server.start()
    site_clock.advance(MAIL.retry_delay_s * MAIL.retry_backoff ** 3)
    tasks.sweep_outbox.enqueue()
    assert [m["To"] for m in smtp_server.messages] == ["other@example.org"]
    assert notify.outbox_counts() == {"sent": 1, "withdrawn": 3}
