"""The Event Webhook end to end: signed like SendGrid signs, verified over the raw body, stored by the request,
applied by the worker (the outbox's event handler), each event once."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core import runtime
from services.core.db.models import Subscriber, WebhookBatch, WebhookEvent
from services.core.runtime import Runtime
from services.delivery.progress import summary
from services.delivery.send import recipients_query, start_send
from services.digest import compose
from tests import factories
from tests.delivery.webhook_worker import process_stored_batches
from tests.web.sendgrid_signing import SIGNATURE, TIMESTAMP, Signer, webhook_client


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
def hook(rt: Runtime, signer: Signer) -> TestClient:
    return webhook_client(rt, signer)


def _sending_digest(rt: Runtime) -> tuple[int, int]:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
        subscriber = factories.confirmed_subscriber(session, "reader@example.org")
        digest = compose.compile_week(session, rt.settings, "2026-W48")
        compose.approve(session, digest.id)
        start_send(session, digest.id)
        return digest.id, subscriber.id


def _event(n: int, kind: str, digest_id: int, subscriber_id: int, **extra: object) -> dict[str, object]:
    return {"email": "reader@example.org", "timestamp": 1764400000, "event": kind, "sg_event_id": f"ev-{n}",
            "sg_message_id": "m.1", "digest_id": str(digest_id), "subscriber_id": str(subscriber_id), **extra}


def test_the_request_stores_the_post_and_only_the_worker_applies_it(rt: Runtime, hook: TestClient,
                                                                   signer: Signer) -> None:
    # Given a digest being sent, and a signed post with a hard bounce for its reader
    digest_id, subscriber_id = _sending_digest(rt)
    raw = json.dumps([_event(1, "bounce", digest_id, subscriber_id)]).encode()
    # When SendGrid posts it
    response = hook.post("/webhooks/sendgrid", content=raw, headers=signer.headers(raw))
    # Then the answer says it was stored, the post is kept verbatim, and nothing happened to the reader yet
    assert response.status_code == 200 and response.json()["events"] == 1
    with rt.sessions() as session:
        batch = session.get(WebhookBatch, response.json()["batch"])
        assert (batch.state, batch.body, batch.event_count) == ("stored", raw.decode(), 1)
        assert session.get(Subscriber, subscriber_id).suppressed_at is None
        assert session.scalar(select(WebhookEvent.sg_event_id)) is None
    # When the worker handles what the request recorded
    process_stored_batches(rt)
    # Then the batch is processed and the reader is off the list
    with rt.sessions() as session:
        assert session.get(WebhookBatch, response.json()["batch"]).state == "processed"
        assert session.get(Subscriber, subscriber_id).suppressed_reason == "bounce"


def test_delivered_open_and_click_are_counted_once_per_event(rt: Runtime, hook: TestClient, signer: Signer) -> None:
    # Given a digest being sent and events for it (one sent twice, as SendGrid may)
    digest_id, subscriber_id = _sending_digest(rt)
    events = [_event(1, "delivered", digest_id, subscriber_id), _event(2, "open", digest_id, subscriber_id),
              _event(3, "click", digest_id, subscriber_id, url="https://x.example.org"),
              _event(2, "open", digest_id, subscriber_id)]
    raw = json.dumps(events).encode()
    # When the webhook posts them, and then posts the same batch again, and the worker runs
    first = hook.post("/webhooks/sendgrid", content=raw, headers=signer.headers(raw))
    again = hook.post("/webhooks/sendgrid", content=raw, headers=signer.headers(raw))
    process_stored_batches(rt)
    # Then each event counted once
    assert first.status_code == again.status_code == 200
    with rt.sessions() as session:
        first_batch, second_batch = session.get(WebhookBatch, first.json()["batch"]), \
            session.get(WebhookBatch, again.json()["batch"])
        assert (first_batch.fresh, first_batch.duplicates) == (3, 1)
        assert (second_batch.fresh, second_batch.duplicates) == (0, 4)
        progress = summary(session, digest_id)
    assert (progress.delivered, progress.opened, progress.clicked) == (1, 1, 1)


@pytest.mark.parametrize(("kind", "extra"), [
    ("bounce", {}), ("bounce", {"type": "bounce"}), ("dropped", {"reason": "Bounced Address"}),
    ("dropped", {"reason": "Invalid"}), ("dropped", {"reason": "Spam Reporting Address"}),
    ("dropped", {"reason": "Unsubscribed Address"}), ("spamreport", {}), ("unsubscribe", {}),
    ("group_unsubscribe", {}),
])
def test_suppressing_events_take_the_address_off_the_list(rt: Runtime, hook: TestClient, signer: Signer,
                                                          kind: str, extra: dict[str, str]) -> None:
    digest_id, subscriber_id = _sending_digest(rt)
    raw = json.dumps([_event(1, kind, digest_id, subscriber_id, **extra)]).encode()
    assert hook.post("/webhooks/sendgrid", content=raw, headers=signer.headers(raw)).status_code == 200
    process_stored_batches(rt)
    with rt.sessions() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        assert subscriber.suppressed_reason == kind and subscriber.suppressed_at is not None
        assert session.scalars(recipients_query()).all() == []


@pytest.mark.parametrize("spelled", ["Anna@Bücher.Example", "ANNA@XN--BCHER-KVA.EXAMPLE", "anna@xn--bcher-kva.example"])
def test_an_event_naming_only_an_address_suppresses_its_subscriber_in_any_case_or_idn_spelling(
        rt: Runtime, hook: TestClient, signer: Signer, spelled: str) -> None:
    # Given a confirmed subscriber stored under the address's identity
    with rt.sessions() as session, session.begin():
        subscriber_id = factories.confirmed_subscriber(session, "anna@bücher.example").id
    # When SendGrid reports a bounce that names the address only, spelled another way
    raw = json.dumps([{"email": spelled, "timestamp": 1764400000, "event": "bounce", "sg_event_id": "ev-1"}]).encode()
    assert hook.post("/webhooks/sendgrid", content=raw, headers=signer.headers(raw)).status_code == 200
    process_stored_batches(rt)
    # Then that subscriber is off the list
    with rt.sessions() as session:
        assert session.get(Subscriber, subscriber_id).suppressed_reason == "bounce"
        assert session.scalars(recipients_query()).all() == []


def _post(rt: Runtime, hook: TestClient, signer: Signer, events: list[dict[str, object]]) -> None:
    """Post ``events`` signed, and let the worker process them."""
    raw = json.dumps(events).encode()
    assert hook.post("/webhooks/sendgrid", content=raw, headers=signer.headers(raw)).json()["events"] == len(events)
    process_stored_batches(rt)


def test_soft_bounces_are_counted_and_only_a_run_of_them_suppresses(rt: Runtime, hook: TestClient,
                                                                    signer: Signer) -> None:
    # Given a reader whose server blocks our mail (SendGrid's "blocked" bounce), and the default run of 3
    digest_id, subscriber_id = _sending_digest(rt)
    blocked = {"type": "blocked", "reason": "550 5.7.1 blocked by reputation"}
    # When two blocked bounces arrive, Then the reader is still on the list, with a run of two
    _post(rt, hook, signer, [_event(n, "bounce", digest_id, subscriber_id, **blocked) for n in (1, 2)])
    with rt.sessions() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        assert (subscriber.soft_bounce_run, subscriber.suppressed_at) == (2, None)
        assert session.scalars(recipients_query()).all() == [subscriber_id]
    # When the third arrives, Then the reader is suppressed, saying why
    _post(rt, hook, signer, [_event(3, "bounce", digest_id, subscriber_id, **blocked)])
    with rt.sessions() as session:
        assert session.get(Subscriber, subscriber_id).suppressed_reason == "soft bounces in a row: 3"
        assert session.scalars(recipients_query()).all() == []


def test_a_delivery_ends_a_run_of_soft_bounces(rt: Runtime, hook: TestClient, signer: Signer) -> None:
    # Given two blocked bounces, then a delivery, then two more blocked bounces
    digest_id, subscriber_id = _sending_digest(rt)
    events = [_event(1, "bounce", digest_id, subscriber_id, type="blocked"),
              _event(2, "bounce", digest_id, subscriber_id, type="blocked"),
              _event(3, "delivered", digest_id, subscriber_id),
              _event(4, "bounce", digest_id, subscriber_id, type="blocked"),
              _event(5, "bounce", digest_id, subscriber_id, type="blocked")]
    # When the webhook posts them
    _post(rt, hook, signer, events)
    # Then no run reached three: the reader stays on the list with a run of two
    with rt.sessions() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        assert (subscriber.soft_bounce_run, subscriber.suppressed_at) == (2, None)


def test_the_run_that_suppresses_is_a_setting(rt: Runtime, signer: Signer) -> None:
    # Given VERDICTS_SOFT_BOUNCE_LIMIT=1 where the worker runs
    hook = webhook_client(rt, signer)
    runtime.install(replace(rt, settings=rt.settings.model_copy(update={"soft_bounce_limit": 1})))
    digest_id, subscriber_id = _sending_digest(rt)
    # When one blocked bounce arrives, Then the reader is suppressed
    _post(rt, hook, signer, [_event(1, "bounce", digest_id, subscriber_id, type="blocked")])
    with rt.sessions() as session:
        assert session.get(Subscriber, subscriber_id).suppressed_reason == "soft bounces in a row: 1"


@pytest.mark.parametrize("event", [
    {"event": "dropped", "reason": "Invalid SMTPAPI header"},
    {"event": "dropped", "reason": "Recipient List over Package Quota"},
    {"event": "dropped"},
    {"event": "deferred", "response": "421 try again later", "attempt": "3"},
])
def test_drops_about_the_message_and_deferrals_leave_the_address_on_the_list(
        rt: Runtime, hook: TestClient, signer: Signer, event: dict[str, str]) -> None:
    digest_id, subscriber_id = _sending_digest(rt)
    _post(rt, hook, signer, [_event(1, event.pop("event"), digest_id, subscriber_id, **event)])
    with rt.sessions() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        assert (subscriber.suppressed_at, subscriber.state, subscriber.soft_bounce_run) == (None, "confirmed", 0)
        assert session.scalars(recipients_query()).all() == [subscriber_id]


def test_a_drop_because_the_address_unsubscribed_unsubscribes_it_here_too(rt: Runtime, hook: TestClient,
                                                                        signer: Signer) -> None:
    digest_id, subscriber_id = _sending_digest(rt)
    _post(rt, hook, signer, [_event(1, "dropped", digest_id, subscriber_id, reason="Unsubscribed Address")])
    with rt.sessions() as session:
        assert session.get(Subscriber, subscriber_id).state == "unsubscribed"


def test_a_bad_event_in_the_array_does_not_lose_the_good_ones(rt: Runtime, hook: TestClient, signer: Signer) -> None:
    digest_id, subscriber_id = _sending_digest(rt)
    events = [_event(1, "delivered", digest_id, subscriber_id), {"event": "open"}, "not an event",
              _event(4, "open", digest_id, subscriber_id)]
    raw = json.dumps(events).encode()
    response = hook.post("/webhooks/sendgrid", content=raw, headers=signer.headers(raw))
    assert response.status_code == 200
    process_stored_batches(rt)
    with rt.sessions() as session:
        batch = session.get(WebhookBatch, response.json()["batch"])
        assert batch.fresh == 2 and len(batch.rejected) == 2 and batch.rejected[0].startswith("event 1:")
        assert session.scalars(select(WebhookEvent.sg_event_id).order_by(WebhookEvent.sg_event_id)).all() == \
            ["ev-1", "ev-4"]


def _forbidden(hook: TestClient, raw: bytes, headers: dict[str, str]) -> bool:
    return hook.post("/webhooks/sendgrid", content=raw, headers=headers).status_code == 403


def test_requests_not_signed_by_the_key_or_not_fresh_are_refused(rt: Runtime, hook: TestClient,
                                                                 signer: Signer) -> None:
    digest_id, subscriber_id = _sending_digest(rt)
    raw = json.dumps([_event(1, "bounce", digest_id, subscriber_id)]).encode()
    good = signer.headers(raw)
    # another key, a changed body, a body re-serialized differently, a stale or odd timestamp, bad base64
    assert _forbidden(hook, raw, Signer().headers(raw))
    assert _forbidden(hook, raw.replace(b"bounce", b"open  "), good)
    assert _forbidden(hook, json.dumps(json.loads(raw), indent=1).encode(), good)
    assert _forbidden(hook, raw, signer.headers(raw, str(int(time.time()) - 11 * 60)))
    assert _forbidden(hook, raw, signer.headers(raw, "1e9"))
    assert _forbidden(hook, raw, {**good, TIMESTAMP: "soon"})
    assert _forbidden(hook, raw, {**good, TIMESTAMP: "9" * 400})  # would overflow a float
    assert _forbidden(hook, raw, {**good, TIMESTAMP: "9" * 5000})  # past Python's int digit limit
    assert _forbidden(hook, raw, {**good, SIGNATURE: "***not base64***"})
    assert _forbidden(hook, raw, {k: v for k, v in good.items() if k != SIGNATURE})
    # Then nothing was stored; and the genuine request still goes through
    with rt.sessions() as session:
        assert session.scalar(select(WebhookBatch.id)) is None
    assert hook.post("/webhooks/sendgrid", content=raw, headers=good).status_code == 200
