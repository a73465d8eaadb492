"""Sending the account mails (verification and reset links): one protocol, two senders.

:class:`SmtpMailer` talks to the SMTP server of the settings; without one, :class:`LogMailer`
writes each message, link included, to the log, so that an embedded deployment still works.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from terrapole.config import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    """One plain-text message to one address."""

    to: str
    subject: str
    body: str


class Mailer(Protocol):
    """Something that delivers a :class:`Mail` (or raises ``OSError`` trying)."""

    def send(self, mail: Mail) -> None:
        """Deliver ``mail``."""


class LogMailer:
    """Writes each mail to the log (the embedded default, when no SMTP server is set)."""

    def __init__(self) -> None:
        self.sent: list[Mail] = []

    def send(self, mail: Mail) -> None:
        """Log the mail, body and link included, and keep it in :attr:`sent`."""
        self.sent.append(mail)
        logger.warning("mail to %s: %s\n%s", mail.to, mail.subject, mail.body)


@dataclass(frozen=True)
class SmtpMailer:
    """Delivers through an SMTP server; STARTTLS and login when configured."""

    host: str
    port: int
    sender: str
    starttls: bool = True
    user: str | None = None
    password: str | None = None
    timeout_s: float = 30.0

    def send(self, mail: Mail) -> None:
        """Send ``mail`` in one SMTP session."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


def mailer_for(settings: Settings) -> Mailer:
    """The SMTP mailer of the settings, or the log mailer when no SMTP host is set."""
    if not settings.smtp_host:
        return LogMailer()
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        starttls=settings.smtp_starttls,
        user=settings.smtp_user,
        password=password,
    )
