"""Contract: every request the project makes is valid under SendGrid's published Mail Send spec.

Stoplight Prism 5.14.2 (installed by scripts/ensure-prism.sh) serves ../shared/specs/sendgrid's
spec as a validating mock: a valid body gets 202, an invalid one 400, and the violations are
named in its ``sl-violations`` header.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.core.runtime import Runtime
from services.delivery.send import send_batch, start_send
from services.mail import placeholders
from services.mail.mailers import SendGridMailer
from services.mail.messages import BatchMail, OutgoingMail, Recipient
from services.mail.sendgrid_payload import batch_body, single_body
from tests import factories
from tests.conftest import shared_path
from tests.services_check import unavailable

PRISM = Path(__file__).resolve().parents[2] / ".tools" / "prism" / "node_modules" / ".bin" / "prism"
SENDER = "Verdicts <digest@verdicts.example.org>"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    spec = shared_path("specs", "sendgrid", "tsg_mail_v3.json")
    if not PRISM.exists():
        unavailable("Prism", f"{PRISM} is missing: run scripts/ensure-prism.sh")
    port = _free_port()
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    with open(log, "wb") as output:
        process = subprocess.Popen([str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "--errors", str(spec)],
                                   stdout=output, stderr=subprocess.STDOUT)
    host = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(host + "/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"Prism did not start: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.2)
        yield host
    finally:
        process.terminate()
        process.wait(timeout=10)


def _post(prism: str, body: dict[str, object]) -> tuple[int, list[object]]:
    """Send ``body`` through the library's client exactly as the mailer does; (status, violations)."""
    from python_http_client.exceptions import HTTPError

    try:
        response = SendGridMailer("SG.contract-test", prism, SENDER, 30).request(body)
    except HTTPError as exc:
        return exc.status_code, json.loads(exc.headers.get("sl-violations") or "[]")
    return response.status_code, json.loads(response.headers.get("sl-violations") or "[]")


def _digest_batch(rt: Runtime, readers: int) -> int:
    with rt.sessions() as session, session.begin():
        [batch_id] = start_send(session, factories.approved_digest(session, rt.settings, readers))
        return batch_id


class CapturingMailer:
    """Keeps the batch the delivery code builds, so its exact request body can go to Prism."""

    def __init__(self) -> None:
        self.batches: list[BatchMail] = []

    def send(self, mail: OutgoingMail) -> str:
        raise AssertionError("unused")

    def send_batch(self, mail: BatchMail) -> None:
        self.batches.append(mail)


def test_a_full_digest_batch_of_1000_is_valid(rt: Runtime, prism: str) -> None:
    # Given the request body delivery builds for a batch of 1,000 readers (the most one request may carry)
    batch_id = _digest_batch(rt, 1000)
    mailer = CapturingMailer()
    send_batch(rt.sessions, rt.settings, mailer, batch_id, "m1")
    body = batch_body(SENDER, mailer.batches[0])
    # When it is sent through the library to the validating mock, Then it is accepted with no violation
    assert len(body["personalizations"]) == 1000 and "List-Id" in body["headers"]
    assert "List-Unsubscribe-Post" in body["headers"] and "List-Unsubscribe" in body["personalizations"][0]["headers"]
    assert _post(prism, body) == (202, [])


def test_the_mailer_sends_a_digest_batch_that_prism_accepts(rt: Runtime, prism: str) -> None:
    # Given a batch, When the real SendGrid mailer sends it to Prism, Then the ledger says sent
    batch_id = _digest_batch(rt, 3)
    assert send_batch(rt.sessions, rt.settings, SendGridMailer("SG.x", prism, SENDER, 10), batch_id,
                               "m1") == "sent"


def test_confirmation_and_welcome_mails_are_valid(prism: str) -> None:
    for template in ("confirm_subscription", "welcome"):
        body = single_body(SENDER, OutgoingMail(to="new@example.org", subject="Confirm your subscription",
                                                html="<p>Confirm</p>", text="Confirm", categories=(template,)))
        assert _post(prism, body) == (202, [])


def test_the_mock_really_validates_a_batch_over_the_limit_is_refused(prism: str) -> None:
    # Given a body one personalization over SendGrid's limit (a check that the mock is not a rubber stamp)
    recipients = [Recipient(f"r{n}@example.org", {placeholders.UNSUBSCRIBE: "https://x.example.org/u"},
                            {"List-Unsubscribe": "<https://x.example.org/u>"}, {"subscriber_id": str(n)})
                  for n in range(1001)]
    body = batch_body(SENDER, BatchMail("s", "<p>[[unsubscribe_url]]</p>", "[[unsubscribe_url]]", ("digest",),
                                        recipients))
    status, violations = _post(prism, body)
    assert status == 400 and any("personalizations" in str(v) for v in violations)
