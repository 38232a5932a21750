"""Mailers behind one interface: the file outbox (embedded default) and SendGrid."""

from __future__ import annotations

import os
import uuid
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from services.core.domain import OutgoingMail
from services.core.settings import Settings

SENDGRID_TIMEOUT_SECONDS = 30
#: Long header lines (RFC 5322 allows 998) so List-Unsubscribe URLs are never folded mid-header.
EML_POLICY = policy.default.clone(max_line_length=998)


class Mailer(Protocol):
    def send(self, mail: OutgoingMail) -> str:
        """Hand one message over; returns an id for it."""
        ...


class FileMailer:
    """Writes one ``.eml`` per message (and its HTML beside it), each atomically."""

    def __init__(self, outbox_dir: Path, sender: str):
        self.outbox_dir = outbox_dir
        self.sender = sender

    def send(self, mail: OutgoingMail) -> str:
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        message = EmailMessage(policy=EML_POLICY)
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="verdicts.local")
        for name, value in mail.headers.items():
            message[name] = value
        if mail.categories:
            message["X-Verdicts-Categories"] = ", ".join(mail.categories)
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        stem = f"{uuid.uuid4().hex}"
        _write_atomically(self.outbox_dir / f"{stem}.eml", bytes(message))
        _write_atomically(self.outbox_dir / f"{stem}.html", mail.html.encode("utf-8"))
        return stem


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class SendGridMailer:
    """One message per request through the official library, with a timeout (its default has none)."""

    def __init__(self, api_key: str, host: str, sender: str):
        from sendgrid import SendGridAPIClient

        self.client = SendGridAPIClient(api_key, host=host.rstrip("/"))
        self.client.client.timeout = SENDGRID_TIMEOUT_SECONDS
        self.sender = sender

    def send(self, mail: OutgoingMail) -> str:
        from sendgrid.helpers.mail import Category, Content, From, Header, Mail, To

        message = Mail(from_email=From(*_split_sender(self.sender)), to_emails=To(mail.to), subject=mail.subject)
        message.add_content(Content("text/plain", mail.text))
        message.add_content(Content("text/html", mail.html))
        for name, value in mail.headers.items():
            message.add_header(Header(name, value))
        for category in mail.categories:
            message.add_category(Category(category))
        response = self.client.send(message)
        return response.headers.get("X-Message-Id", "") if response.headers else ""


def _split_sender(sender: str) -> tuple[str, str | None]:
    if "<" in sender:
        name, address = sender.rsplit("<", 1)
        return address.rstrip(">").strip(), name.strip().strip('"') or None
    return sender.strip(), None


def mailer_for(settings: Settings) -> Mailer:
    if settings.sendgrid_api_key is None:
        return FileMailer(settings.outbox_dir, settings.mail_from)
    return SendGridMailer(settings.sendgrid_api_key.get_secret_value(), str(settings.sendgrid_host), settings.mail_from)
