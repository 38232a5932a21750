"""Recipients go to the mail service with an internationalised domain in its IDNA (xn--) form."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from services.mail.mailers import FileMailer
from services.mail.messages import BatchMail, OutgoingMail, Recipient
from services.mail.sendgrid_payload import batch_body, single_body

SENDER = "Verdicts <digest@verdicts.example.org>"


def _mail(to: str) -> OutgoingMail:
    return OutgoingMail(to=to, subject="Hello", html="<p>hi</p>", text="hi")


def test_sendgrid_gets_an_internationalised_domain_in_idna_form() -> None:
    # Given a single message and a batch, each to a mailbox at an internationalised domain and one at an ASCII one
    single = single_body(SENDER, _mail("anna@bücher.example"))
    batch = batch_body(SENDER, BatchMail("s", "<p>x</p>", "x", ("digest",), [
        Recipient("anna@bücher.example", {}, {}, {}), Recipient("reader@example.org", {}, {}, {})]))
    # Then each request names the domain in IDNA form, and the ASCII address as it is
    assert single["personalizations"][0]["to"] == [{"email": "anna@xn--bcher-kva.example"}]
    assert [p["to"][0]["email"] for p in batch["personalizations"]] == ["anna@xn--bcher-kva.example",
                                                                         "reader@example.org"]


def test_the_file_outbox_writes_an_idna_domain_and_a_utf8_local_part_as_smtputf8_would(tmp_path: Path) -> None:
    # Given the file outbox, When it writes mail to an IDN domain and to a non-ASCII local part
    mailer = FileMailer(tmp_path, SENDER)
    for address in ("anna@bücher.example", "zoë@example.com"):
        mailer.send(_mail(address))
    # Then the first To header is all ASCII (IDNA), and the second is raw UTF-8 (RFC 6532), not an encoded word
    raw = sorted(p.read_bytes() for p in tmp_path.glob("*.eml"))
    to_headers = sorted(line for message in raw for line in message.splitlines() if line.startswith(b"To: "))
    assert to_headers == [b"To: anna@xn--bcher-kva.example", "To: zoë@example.com".encode()]
    assert {str(email.message_from_bytes(m, policy=policy.default)["To"]) for m in raw} == {
        "anna@xn--bcher-kva.example", "zoë@example.com"}
