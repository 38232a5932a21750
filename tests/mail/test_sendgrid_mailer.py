"""The SendGrid mailer through the real `sendgrid` library, against our own recording endpoint.

The endpoint counts at the receiving end and can answer 429, 500, 400, slowly or not at all; the
contract with SendGrid's published spec is checked against Prism in test_sendgrid_contract.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.core.db.models import DeliveryBatch
from services.core.runtime import Runtime
from services.delivery.send import RetryPolicy, send_batch, start_send
from services.mail.mailers import SendGridMailer
from services.mail.messages import OutgoingMail
from services.mail.sendgrid_payload import MAX_RETRY_AFTER_SECONDS
from tests import factories
from tests.sendgrid_endpoint import Answer, RecordingEndpoint, bad_request, recording_endpoint, server_error, throttled

SENDER = "Verdicts <digest@verdicts.example.org>"


@pytest.fixture
def endpoint() -> Iterator[RecordingEndpoint]:
    with recording_endpoint() as running:
        yield running


def _mailer(endpoint: RecordingEndpoint, timeout: float = 5.0) -> SendGridMailer:
    return SendGridMailer("SG.test-key", endpoint.host, SENDER, timeout)


def _batch(rt: Runtime, readers: int) -> tuple[int, int]:
    with rt.sessions() as session, session.begin():
        digest_id = factories.approved_digest(session, rt.settings, readers)
        [batch_id] = start_send(session, digest_id)
        return digest_id, batch_id


def _send(rt: Runtime, mailer: SendGridMailer, batch_id: int, waits: list[float] | None = None) -> str:
    policy = RetryPolicy(attempts=3, min_wait=0.01, max_wait=0.05,
                                  sleep=(waits.append if waits is not None else lambda _s: None))
    return send_batch(rt.sessions, rt.settings, mailer, batch_id, "m1", policy)


def _error(rt: Runtime, batch_id: int) -> str:
    with rt.sessions() as session:
        return session.get(DeliveryBatch, batch_id).error or ""


def test_a_batch_is_one_request_with_one_personalization_per_recipient(rt: Runtime,
                                                                       endpoint: RecordingEndpoint) -> None:
    # Given a batch of three readers
    digest_id, batch_id = _batch(rt, 3)
    # When it is sent through the library
    assert _send(rt, _mailer(endpoint), batch_id) == "sent"
    # Then one request arrived, authorised, with each reader once, in order, with their own links and ids
    [body] = endpoint.bodies
    assert endpoint.authorizations == ["Bearer SG.test-key"]
    assert [p["to"] for p in body["personalizations"]] == [[{"email": f"reader{n}@example.org"}] for n in range(3)]
    first = body["personalizations"][0]
    assert first["substitutions"]["[[unsubscribe_url]]"].startswith("https://verdicts.example.org/unsubscribe/")
    assert first["headers"]["List-Unsubscribe"] == f"<{first['substitutions']['[[unsubscribe_url]]']}>"
    # SendGrid merges the shared headers with each personalization's: the message carries both RFC 8058 headers
    merged = {**body["headers"], **first["headers"]}
    assert merged["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and "List-Unsubscribe" in merged
    assert first["custom_args"]["digest_id"] == str(digest_id) and first["custom_args"]["batch_id"] == str(batch_id)
    assert "custom_args" not in body  # the spec types a top-level custom_args as a string
    assert body["headers"] == {"List-Id": '"Verdicts weekly" <weekly.verdicts.example.org>',
                               "Feedback-ID": f"digest:2026-W48:{digest_id}:verdicts",
                               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    assert body["categories"] == ["digest", "2026-W48"]
    assert body["from"] == {"email": "digest@verdicts.example.org", "name": "Verdicts"}
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert "[[unsubscribe_url]]" in body["content"][0]["value"]


def test_429_is_retried_after_the_time_the_server_asks(rt: Runtime, endpoint: RecordingEndpoint) -> None:
    _digest_id, batch_id = _batch(rt, 2)
    endpoint.answer_next(throttled("3"))
    waits: list[float] = []
    assert _send(rt, _mailer(endpoint), batch_id, waits) == "sent"
    assert waits == [3.0] and endpoint.deliveries == {"reader0@example.org": 1, "reader1@example.org": 1}


def test_a_retry_after_longer_than_the_cap_waits_only_the_cap(rt: Runtime, endpoint: RecordingEndpoint) -> None:
    # Given a server that asks for two hours, once as seconds and once as an HTTP date
    _digest_id, batch_id = _batch(rt, 1)
    endpoint.answer_next(throttled("7200"), throttled("Fri, 01 Jan 2100 00:00:00 GMT"))
    waits: list[float] = []
    # When the batch is sent
    assert _send(rt, _mailer(endpoint), batch_id, waits) == "sent"
    # Then each wait is the mail side's cap, not the server's ask
    assert waits == [MAX_RETRY_AFTER_SECONDS, MAX_RETRY_AFTER_SECONDS]


def test_5xx_is_retried_with_backoff_and_fails_when_it_persists(rt: Runtime, endpoint: RecordingEndpoint) -> None:
    _digest_id, batch_id = _batch(rt, 1)
    endpoint.answer_next(server_error(), server_error(), server_error())
    assert _send(rt, _mailer(endpoint), batch_id) == "failed"
    assert "internal error" in _error(rt, batch_id) and endpoint.requests == 0


def test_another_4xx_fails_at_once_with_sendgrids_text(rt: Runtime, endpoint: RecordingEndpoint) -> None:
    _digest_id, batch_id = _batch(rt, 1)
    endpoint.answer_next(bad_request("The from address does not match a verified Sender Identity."))
    assert _send(rt, _mailer(endpoint), batch_id) == "failed"
    assert "HTTP 400: The from address does not match a verified Sender Identity." in _error(rt, batch_id)
    assert endpoint.script == []  # asked once


@pytest.mark.parametrize("answer", [Answer(delay=2.0), Answer(hang_up=True)], ids=["too-slow", "no-answer"])
def test_a_request_with_no_clear_answer_leaves_the_batch_ambiguous(rt: Runtime, endpoint: RecordingEndpoint,
                                                                     answer: Answer) -> None:
    # Given an endpoint that answers after the client's timeout, or hangs up
    _digest_id, batch_id = _batch(rt, 2)
    endpoint.answer_next(answer)
    # When the batch is sent, Then it is ambiguous and not tried again
    assert _send(rt, _mailer(endpoint, timeout=0.5), batch_id) == "ambiguous"
    assert endpoint.script == [] and endpoint.requests <= 1


def test_an_endpoint_that_refuses_connections_is_retried_then_fails(rt: Runtime) -> None:
    _digest_id, batch_id = _batch(rt, 1)
    with recording_endpoint() as gone:
        host = gone.host
    mailer = SendGridMailer("SG.test-key", host, SENDER, 1.0)
    assert _send(rt, mailer, batch_id) == "failed"
    assert "cannot connect" in _error(rt, batch_id)


def test_a_single_mail_carries_its_headers_and_category(endpoint: RecordingEndpoint) -> None:
    _mailer(endpoint).send(OutgoingMail(to="new@example.org", subject="Confirm", html="<p>x</p>", text="x",
                                        categories=("confirm_subscription",)))
    [body] = endpoint.bodies
    assert body["personalizations"] == [{"to": [{"email": "new@example.org"}]}]
    assert body["categories"] == ["confirm_subscription"] and body["subject"] == "Confirm"


def test_open_tracking_is_off_in_every_request_unless_the_setting_turns_it_on(endpoint: RecordingEndpoint) -> None:
    # Given a mailer with open tracking left off, and one with it on
    mail = OutgoingMail(to="new@example.org", subject="Confirm", html="<p>x</p>", text="x")
    # When each sends a mail
    _mailer(endpoint).send(mail)
    SendGridMailer("SG.test-key", endpoint.host, SENDER, 5.0, open_tracking=True).send(mail)
    # Then SendGrid is told not to add its pixel, then to add it
    assert [body["tracking_settings"] for body in endpoint.bodies] == [
        {"open_tracking": {"enable": False}}, {"open_tracking": {"enable": True}}]
