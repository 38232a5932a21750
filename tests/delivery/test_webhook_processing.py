"""Processing stored Event Webhook posts: each event once, however often it or its batch comes by; a batch that
cannot be processed is kept, marked failed, and the others go on."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import ProgrammingError

from services.core.db.models import DigestEventCount, DigestLinkClick, Subscriber, WebhookBatch, WebhookEvent
from services.core.domain import WebhookBatchState
from services.core.runtime import Runtime
from services.delivery import engagement_counters, webhook_events, webhook_processing
from services.delivery.progress import summary
from services.delivery.send import start_send
from services.digest import compose
from tests import factories
from tests.cli import run_cli
from tests.delivery.webhook_worker import process_stored_batches


def _sending_digest(rt: Runtime, *addresses: str) -> tuple[int, list[int]]:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
        ids = [factories.confirmed_subscriber(session, address).id for address in addresses]
        digest = compose.compile_week(session, rt.settings, "2026-W48")
        compose.approve(session, digest.id)
        start_send(session, digest.id)
        return digest.id, ids


def _event(event_id: str, kind: str, digest_id: int, subscriber_id: int, at: int = 1764400000,
           **extra: object) -> dict[str, object]:
    return {"email": "unused@example.org", "timestamp": at, "event": kind, "sg_event_id": event_id,
            "digest_id": str(digest_id), "subscriber_id": str(subscriber_id), **extra}


def _store(rt: Runtime, events: list[object] | str) -> int:
    """Store a post as the webhook's request does; its batch id."""
    body = events if isinstance(events, str) else json.dumps(events)
    with rt.sessions() as session, session.begin():
        return webhook_events.store(session, body, len(events)).id


def _batch(rt: Runtime, batch_id: int) -> WebhookBatch:
    with rt.sessions() as session:
        return session.get(WebhookBatch, batch_id)


def test_a_stored_post_changes_nothing_until_the_worker_processes_it(rt: Runtime) -> None:
    # Given a reader, and a stored post with their spam report
    digest_id, (reader,) = _sending_digest(rt, "reader@example.org")
    batch_id = _store(rt, [_event("ev-1", "spamreport", digest_id, reader)])
    # Then, before the worker runs, the reader is on the list and no event is applied
    with rt.sessions() as session:
        assert session.get(Subscriber, reader).suppressed_at is None
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    # When the worker runs, Then the reader is suppressed and unsubscribed, and the batch is processed
    assert process_stored_batches(rt) == 1
    with rt.sessions() as session:
        subscriber = session.get(Subscriber, reader)
        assert (subscriber.suppressed_reason, subscriber.state) == ("spamreport", "unsubscribed")
    assert (_batch(rt, batch_id).state, _batch(rt, batch_id).fresh) == ("processed", 1)


def test_processing_a_batch_again_changes_nothing(rt: Runtime) -> None:
    # Given a processed batch of a delivery, a click and two soft bounces
    digest_id, (reader,) = _sending_digest(rt, "reader@example.org")
    batch_id = _store(rt, [_event("ev-1", "delivered", digest_id, reader, at=1764400000),
                           _event("ev-2", "click", digest_id, reader, url="https://verdicts.example.org/c/a-vs-b"),
                           _event("ev-3", "bounce", digest_id, reader, at=1764400100, type="blocked"),
                           _event("ev-4", "bounce", digest_id, reader, at=1764400200, type="blocked")])
    process_stored_batches(rt)
    # When it is processed again, even after being put back to "stored" (a redelivered message, an operator)
    for _ in range(2):
        with rt.sessions() as session, session.begin():
            session.get(WebhookBatch, batch_id).state = WebhookBatchState.STORED
        with rt.sessions() as session, session.begin():
            webhook_processing.process(session, batch_id, soft_bounce_limit=3)
    # Then each figure is what one pass made
    with rt.sessions() as session:
        progress = summary(session, digest_id)
        assert (progress.delivered, progress.clicked) == (1, 1)
        assert session.get(Subscriber, reader).soft_bounce_run == 2
        assert session.scalar(select(func.sum(DigestEventCount.count))) == 4
    assert (_batch(rt, batch_id).fresh, _batch(rt, batch_id).duplicates) == (0, 4)


def test_an_event_repeated_across_batches_counts_once(any_runtime: Runtime) -> None:
    # Given (on PostgreSQL and on embedded mode's SQLite) two posts that share one event (SendGrid retries),
    # and one that repeats a soft bounce within itself
    rt = any_runtime
    digest_id, (reader,) = _sending_digest(rt, "reader@example.org")
    blocked = _event("ev-b", "bounce", digest_id, reader, type="blocked")
    first = _store(rt, [_event("ev-1", "delivered", digest_id, reader), blocked])
    second = _store(rt, [blocked, blocked, _event("ev-2", "open", digest_id, reader)])
    # When the worker processes both
    process_stored_batches(rt)
    # Then the shared soft bounce counted once
    with rt.sessions() as session:
        assert session.get(Subscriber, reader).soft_bounce_run == 1
        kinds = dict(session.execute(select(DigestEventCount.kind, func.sum(DigestEventCount.count))
                                     .group_by(DigestEventCount.kind)).all())
    assert kinds == {"delivered": 1, "bounce_soft": 1, "open": 1}
    assert (_batch(rt, first).fresh, _batch(rt, second).fresh, _batch(rt, second).duplicates) == (2, 1, 2)


def test_soft_bounces_and_deliveries_in_one_batch_are_taken_in_the_order_they_happened(rt: Runtime) -> None:
    # Given a reader with a run of 1, and a post listing (out of order) bounce, bounce, delivery, bounce
    digest_id, (reader, other) = _sending_digest(rt, "reader@example.org", "other@example.org")
    with rt.sessions() as session, session.begin():
        session.get(Subscriber, reader).soft_bounce_run = 1
    _store(rt, [_event("ev-4", "bounce", digest_id, reader, at=400, type="blocked"),
                _event("ev-1", "bounce", digest_id, reader, at=100, type="blocked"),
                _event("ev-3", "delivered", digest_id, reader, at=300),
                _event("ev-2", "bounce", digest_id, reader, at=200, type="blocked"),
                *[_event(f"o-{n}", "bounce", digest_id, other, at=n, type="blocked") for n in range(3)]])
    # When the worker processes it
    process_stored_batches(rt)
    # Then the reader's run reached 3 before the delivery (suppressed) and is 1 after it; the other's 3 suppressed it
    with rt.sessions() as session:
        first, second = session.get(Subscriber, reader), session.get(Subscriber, other)
        assert (first.soft_bounce_run, first.suppressed_reason) == (1, "soft bounces in a row: 3")
        assert (second.soft_bounce_run, second.suppressed_reason) == (3, "soft bounces in a row: 3")


def test_a_batch_that_cannot_be_processed_is_kept_marked_failed_and_the_others_go_on(rt: Runtime) -> None:
    # Given a stored batch whose body is damaged between two good ones
    digest_id, (reader,) = _sending_digest(rt, "reader@example.org")
    good = _store(rt, [_event("ev-1", "delivered", digest_id, reader)])
    damaged = _store(rt, '[{"sg_event_id": "ev-2", "event": "bounce"')
    later = _store(rt, [_event("ev-3", "bounce", digest_id, reader)])
    # When the worker processes them
    assert process_stored_batches(rt) == 3
    # Then the damaged one is kept, failed, with the parser's error; the others are processed
    broken = _batch(rt, damaged)
    assert broken.state == "failed" and broken.error.startswith("JSONDecodeError") and broken.body.startswith("[{")
    assert [_batch(rt, good).state, _batch(rt, later).state] == ["processed", "processed"]
    with rt.sessions() as session:
        assert session.get(Subscriber, reader).suppressed_reason == "bounce"
        assert [b.id for b in webhook_processing.stored(session)] == [damaged]


def test_odd_values_in_events_are_handled_without_failing_their_batch(rt: Runtime) -> None:
    # Given a post whose events name a digest id past what the column holds, a NUL in an id, a URL that does not
    # parse; and a post that is fine
    digest_id, (reader,) = _sending_digest(rt, "reader@example.org")
    odd = _store(rt, [{"sg_event_id": "ev-1", "event": "delivered", "digest_id": "99999999999999999999",
                       "subscriber_id": str(reader), "timestamp": 1e300},
                      _event("ev-\u0000x", "click", digest_id, reader, url="http://[not-a-url/\u0000")])
    fine = _store(rt, [_event("ev-2", "delivered", digest_id, reader)])
    # When the worker processes them, Then both are processed: the out-of-range id names nothing, the timestamp
    # falls back to the arrival time, NUL characters are dropped and a URL that does not parse counts as written
    process_stored_batches(rt)
    assert [_batch(rt, odd).state, _batch(rt, fine).state] == ["processed", "processed"]
    with rt.sessions() as session:
        assert session.get(WebhookEvent, "ev-1").digest_id is None
        assert session.get(WebhookEvent, "ev-x") is not None
        assert (summary(session, digest_id).delivered, summary(session, digest_id).clicked) == (1, 1)
        assert session.scalar(select(DigestLinkClick.url)) == "http://[not-a-url/"


def test_a_failed_batch_can_be_sent_back_to_the_worker_and_counts_once(rt: Runtime,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a batch that failed on a bug in the counters (since fixed), and a later post repeating one of its events
    digest_id, (reader,) = _sending_digest(rt, "reader@example.org")
    delivered = _event("ev-1", "delivered", digest_id, reader)
    failed = _store(rt, [delivered, _event("ev-2", "click", digest_id, reader, url="https://x.example.org/")])

    def buggy(*_args: object) -> None:
        raise ProgrammingError("INSERT …", {}, Exception("a bug"))

    with monkeypatch.context() as patched:
        patched.setattr(engagement_counters, "add", buggy)
        process_stored_batches(rt)
    _store(rt, [delivered])
    process_stored_batches(rt)
    assert _batch(rt, failed).state == "failed"
    # When ops list the failed posts and retry them from the command line
    listed = run_cli(rt, "webhooks", "failed")
    retried = run_cli(rt, "webhooks", "retry")
    process_stored_batches(rt)
    # Then the list named it, the batch is processed now, and the repeated delivery counted once
    assert listed.returncode == 0 and "ProgrammingError" in listed.stdout
    assert retried.returncode == 0 and f": {failed}" in retried.stdout
    assert (_batch(rt, failed).state, _batch(rt, failed).fresh, _batch(rt, failed).duplicates) == ("processed", 1, 1)
    with rt.sessions() as session:
        progress = summary(session, digest_id)
        assert (progress.delivered, progress.clicked) == (1, 1)
    # And with nothing failed, a retry says so and exits 1
    assert run_cli(rt, "webhooks", "retry").returncode == 1
