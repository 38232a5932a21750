"""Mailers behind one interface: the file outbox (embedded default) and SendGrid.

Each mailer sends single messages (confirmation, welcome) and whole batches (a digest batch: one
body, many recipients with their own links). A batch either goes out, or fails in one of three
ways the delivery ledger tells apart: ``Throttled`` (nothing was accepted; safe to try again),
``Rejected`` (a permanent 4xx; SendGrid's error text is kept) and ``Uncertain`` (the request may
have arrived: never sent again automatically).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
import uuid
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from services.core.addresses import transport_form
from services.core.settings import Settings
from services.mail import placeholders
from services.mail.messages import BatchMail, OutgoingMail, Recipient, Rejected, Throttled, Uncertain
from services.mail.sendgrid_payload import CONTENT_TYPE, batch_body, classify_failure, serialize, single_body

if TYPE_CHECKING:
    from python_http_client.client import Response

#: Long header lines (RFC 5322 allows 998) so List-Unsubscribe URLs are never folded mid-header.
EML_POLICY = policy.default.clone(max_line_length=998)
#: For a recipient whose part before the @ is not ASCII: UTF-8 headers as SMTPUTF8 carries them (RFC 6532).
EML_UTF8_POLICY = EML_POLICY.clone(utf8=True)


class Mailer(Protocol):
    def send(self, mail: OutgoingMail) -> str:
        """Hand one message over; returns an id for it."""
        ...

    def send_batch(self, mail: BatchMail) -> None:
        """Hand a whole batch over; raises a DeliveryError subclass when it did not go out cleanly."""
        ...


class FileMailer:
    """Writes one ``.eml`` per message (and its HTML beside it), each atomically."""

    def __init__(self, outbox_dir: Path, sender: str):
        self.outbox_dir = outbox_dir
        self.sender = sender

    def send(self, mail: OutgoingMail) -> str:
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        to = transport_form(mail.to)
        message = EmailMessage(policy=EML_POLICY if to.isascii() else EML_UTF8_POLICY)
        message["From"] = self.sender
        message["To"] = to
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

    def send_batch(self, mail: BatchMail) -> None:
        written = 0
        try:
            for recipient in mail.recipients:
                self.send(personalized(mail, recipient))
                written += 1
        except OSError as exc:
            if written == 0:
                raise Throttled(f"outbox not writable: {exc}") from exc
            raise Uncertain(f"outbox failed after {written} message(s): {exc}") from exc


def personalized(mail: BatchMail, recipient: Recipient) -> OutgoingMail:
    """The message one recipient of a batch receives (what SendGrid's substitutions produce)."""
    headers = {**mail.headers, **recipient.headers, **{f"X-Verdicts-{key.replace('_', '-').title()}": value
                                       for key, value in recipient.custom_args.items()}}
    return OutgoingMail(
        to=recipient.address, subject=mail.subject,
        html=placeholders.fill(mail.html, recipient.values), text=placeholders.fill(mail.text, recipient.values),
        headers=headers, categories=mail.categories,
    )


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class SendGridMailer:
    """Mail Send v3, one request per message or per batch, with a timeout.

    The body's shared part is built with the official library (``sendgrid_payload``), and each request
    goes out the way the library's client sends it (urllib, the library's own headers: the API key and
    its User-Agent; its ``Response``; its ``handle_error`` for an HTTP error), but without the client's
    ``post()`` wrapper, which formats the whole body into a debug message on every call, logged or not
    (about a millisecond per thousand recipients), and wants the body as text it encodes again.
    """

    def __init__(self, api_key: str, host: str, sender: str, timeout_seconds: float, open_tracking: bool = False):
        from sendgrid import SendGridAPIClient

        client = SendGridAPIClient(api_key, host=host.rstrip("/"))
        #: The Mail Send endpoint (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send).
        self.url = f"{host.rstrip('/')}/v3/mail/send"
        self.headers = {**client.client.request_headers, "Content-Type": CONTENT_TYPE}
        self.timeout = timeout_seconds  # the library's default is to wait forever
        self.opener = urllib.request.build_opener()
        self.sender = sender
        #: Whether SendGrid adds its open-tracking pixel (``VERDICTS_OPEN_TRACKING``; off: opens mislead).
        self.open_tracking = open_tracking

    def send(self, mail: OutgoingMail) -> str:
        return self._post(single_body(self.sender, mail, self.open_tracking))

    def send_batch(self, mail: BatchMail) -> None:
        self._post(batch_body(self.sender, mail, self.open_tracking))

    def request(self, body: dict[str, object]) -> Response:
        """One POST of ``body`` (serialized by ``sendgrid_payload.serialize``): the library's ``Response``, or
        the library's ``HTTPError`` subclass for an HTTP error status; a transport failure raises as urllib
        raised it."""
        from python_http_client.client import Response
        from python_http_client.exceptions import handle_error

        request = urllib.request.Request(self.url, data=serialize(body), headers=self.headers, method="POST")
        try:
            return Response(self.opener.open(request, timeout=self.timeout))
        except urllib.error.HTTPError as exc:
            raise handle_error(exc) from None

    def _post(self, body: dict[str, object]) -> str:
        try:
            response = self.request(body)
        except Exception as exc:  # every failure is classified below; none is swallowed
            kind, text, retry_after = classify_failure(exc)
            if kind == "throttled":
                raise Throttled(text, retry_after) from exc
            if kind == "rejected":
                raise Rejected(text) from exc
            raise Uncertain(text) from exc
        headers = response.headers or {}
        return headers.get("X-Message-Id", "") or ""  # Prism's 202 carries none


def mailer_for(settings: Settings) -> Mailer:
    if settings.sendgrid_api_key is None:
        return FileMailer(settings.outbox_dir, settings.mail_from)
    return SendGridMailer(settings.sendgrid_api_key.get_secret_value(), str(settings.sendgrid_host),
                          settings.mail_from, settings.sendgrid_timeout_seconds, settings.open_tracking)
