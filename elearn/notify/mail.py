"""Sending one e-mail through the SMTP server of ``ELEARN_SMTP_URL`` (smtplib), with a timeout on the whole
conversation's every step. Only the outbox job (``elearn.notify.tasks``) calls :func:`send`."""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from flask import current_app, has_request_context, request

SCHEMES = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "tls"}
DEFAULT_PORTS = {"plain": 25, "starttls": 587, "tls": 465}


class MailConfigError(ValueError):
    """``ELEARN_SMTP_URL`` cannot be read (unknown scheme, no host, a port that is not a number)."""


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to send: ``security`` is "plain", "starttls" or "tls"."""

    host: str
    port: int
    security: str
    username: str | None = None
    password: str | None = None


def parse_url(url: str) -> SmtpServer:
    """``smtp://user:pass@host:port``, ``smtp+starttls://…`` or ``smtps://…`` → :class:`SmtpServer`; the user
    name and password may be percent-encoded (``%40`` for ``@``).

    Raises:
        MailConfigError: the URL is not one of these forms.
    """
    parts = urlsplit(url.strip())
    security = SCHEMES.get(parts.scheme.lower())
    if security is None:
        raise MailConfigError(f"ELEARN_SMTP_URL: unknown scheme {parts.scheme!r} (smtp, smtp+starttls, smtps)")
    try:
        port = parts.port
    except ValueError:
        raise MailConfigError("ELEARN_SMTP_URL: the port is not a number") from None
    if not parts.hostname:
        raise MailConfigError("ELEARN_SMTP_URL: no host")
    return SmtpServer(host=parts.hostname, port=port or DEFAULT_PORTS[security], security=security,
                      username=unquote(parts.username) if parts.username else None,
                      password=unquote(parts.password) if parts.password is not None else None)


def configured() -> bool:
    """Whether the site sends e-mail at all."""
    return bool(current_app.config.get("ELEARN_SMTP_URL"))


def absolute(path: str) -> str:
    """The address of the site's ``path`` for an e-mail: on ``ELEARN_BASE_URL`` when set, else on the address
    of the request being served (a path outside any request stays a path)."""
    base = current_app.config.get("ELEARN_BASE_URL") or ""
    if not base and has_request_context():
        base = request.host_url.rstrip("/")
    return f"{base}{path}"


def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca_file = current_app.config.get("ELEARN_SMTP_CA_FILE")
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def build_message(to: str, subject: str, body: str, *, message_id: str | None = None) -> EmailMessage:
    """A plain-text UTF-8 message from the site's sender to ``to``."""
    message = EmailMessage()
    message["From"] = current_app.config["ELEARN_MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain="elearn")
    message.set_content(body)
    return message


def send(message: EmailMessage) -> None:
    """Hand ``message`` to the configured SMTP server.

    Raises:
        MailConfigError: no or an unreadable ``ELEARN_SMTP_URL``.
        OSError, smtplib.SMTPException: the server is unreachable, too slow, or refused the message.
    """
    url = current_app.config.get("ELEARN_SMTP_URL")
    if not url:
        raise MailConfigError("ELEARN_SMTP_URL is not set")
    server = parse_url(url)
    timeout = float(current_app.config["ELEARN_SMTP_TIMEOUT_S"])
    smtp: smtplib.SMTP
    if server.security == "tls":
        smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=_tls_context())
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
    with smtp:
        smtp.ehlo()
        if server.security == "starttls":
            smtp.starttls(context=_tls_context())
            smtp.ehlo()
        if server.username:
            smtp.login(server.username, server.password or "")
        smtp.send_message(message)
