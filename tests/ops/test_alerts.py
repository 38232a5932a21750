"""Alerts to a Slack-compatible webhook (a real local HTTP server here): once per incident, never lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from pydantic import SecretStr

from services.core import broker, events, runtime
from services.core.db.models import AlertIncident, DeliveryBatch, Digest, Source
from services.core.runtime import Runtime
from services.ops import alerts, dead_letters
from tests.local_http import LocalServer, Reply, serving
from tests.ops.conftest import wait_until, worker_thread

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


class Webhook:
    """Records the JSON bodies POSTed to the local server's hook path; answers ``status`` (200 unless a test says otherwise)."""

    PATH = "/hooks/T000/B000/secretpart"

    def __init__(self, server: LocalServer) -> None:
        self.posts: list[dict[str, object]] = []
        self.status = 200
        self.url = server.url(self.PATH)
        server.routes[self.PATH] = self._answer

    def _answer(self, handler: BaseHTTPRequestHandler) -> Reply:
        if self.status == 200:
            self.posts.append(json.loads(handler.body))  # type: ignore[attr-defined]
        return Reply(self.status, b"ok")

    def texts(self, containing: str = "") -> list[str]:
        return [str(post["text"]) for post in self.posts if containing in str(post["text"])]


@pytest.fixture
def hook(rt: Runtime) -> Iterator[Webhook]:
    """A webhook server, and the test's runtime installed with its URL and a dead-letter threshold of 2."""
    with serving() as local:
        server = Webhook(local)
        settings = rt.settings.model_copy(update={"alert_webhook_url": SecretStr(server.url),
                                                  "alert_dead_letter_threshold": 2})
        runtime.install(Runtime(settings=settings, engine=rt.engine, sessions=rt.sessions))
        yield server


def record_and_handle(rt: Runtime, event_type: str, **payload: object) -> None:
    with rt.sessions() as session, session.begin():
        event = events.record(session, event_type, **payload)
        session.flush()
        event_id = event.id
    events.handle(rt.sessions, event_id)


def test_dead_letters_past_the_threshold_alert_once_until_the_queue_recovers(rt: Runtime, hook: Webhook,
                                                                             make_probe) -> None:
    # Given a queue with two dead letters (the threshold)
    probe = make_probe()
    with worker_thread(probe.queue):
        probe.fail.send("a", 1)
        probe.fail.send("b", 2)
        wait_until(lambda: len(dead_letters.letter_ids(broker.current(), probe.queue)) == 2, what="2 dead letters")

    # When the alert check runs twice
    alerts.check()
    alerts.check()

    # Then one alert names the queue and its count
    assert len(hook.texts(probe.queue)) == 1
    assert "2 dead-lettered messages on queue " + probe.queue in hook.texts(probe.queue)[0]

    # When the dead letters are purged, the check runs, and two more die
    dead_letters.purge(broker.current(), probe.queue)
    alerts.check()
    with worker_thread(probe.queue):
        probe.fail.send("c", 3)
        probe.fail.send("d", 4)
        wait_until(lambda: len(dead_letters.letter_ids(broker.current(), probe.queue)) == 2, what="2 new dead letters")
    alerts.check()

    # Then that is a new incident, announced once more
    assert len(hook.texts(probe.queue)) == 2


def test_a_paused_source_alerts_once_however_often_the_event_comes(rt: Runtime, hook: Webhook) -> None:
    # Given a source paused after failures
    with rt.sessions() as session, session.begin():
        source = Source(url="https://feeds.example.org/broken.xml", state="paused", consecutive_failures=5,
                        last_error="HTTP 500")
        session.add(source)
        session.flush()
        source_id = source.id

    # When the pause event is recorded and handled twice
    record_and_handle(rt, "source.paused", source_id=source_id, reason="5 failures in a row")
    record_and_handle(rt, "source.paused", source_id=source_id, reason="5 failures in a row")

    # Then one alert went out, naming the source and the reason
    [text] = hook.texts("broken.xml")
    assert "5 failures in a row" in text

    # When the source polls again and is paused again later
    with rt.sessions() as session, session.begin():
        session.get(Source, source_id).state = "active"
    alerts.check()
    with rt.sessions() as session, session.begin():
        session.get(Source, source_id).state = "paused"
    record_and_handle(rt, "source.paused", source_id=source_id, reason="again")

    # Then the second pause is a new incident with an alert of its own
    assert len(hook.texts("broken.xml")) == 2


def test_a_failed_and_an_ambiguous_batch_each_alert_once(rt: Runtime, hook: Webhook) -> None:
    # Given a digest with one failed and one ambiguous batch
    with rt.sessions() as session, session.begin():
        digest = Digest(week="2026-W48", subject="s", state="sending")
        session.add(digest)
        session.flush()
        failed = DeliveryBatch(digest_id=digest.id, number=1, state="failed", recipient_count=10, error="HTTP 500")
        unsure = DeliveryBatch(digest_id=digest.id, number=2, state="ambiguous", recipient_count=7)
        session.add_all([failed, unsure])
        session.flush()
        ids = (failed.id, unsure.id, digest.id)

    # When their events are handled, each twice
    for _ in range(2):
        record_and_handle(rt, "delivery.batch_failed", batch_id=ids[0], digest_id=ids[2])
        record_and_handle(rt, "delivery.batch_ambiguous", batch_id=ids[1], digest_id=ids[2])

    # Then there is one alert for each
    assert len(hook.texts("Delivery batch 1 ")) == 1 and "failed: HTTP 500" in hook.texts("Delivery batch 1 ")[0]
    assert len(hook.texts("Delivery batch 2 ")) == 1 and "ambiguous" in hook.texts("Delivery batch 2 ")[0]


def test_an_alert_the_webhook_refused_is_sent_when_it_answers_again(rt: Runtime, hook: Webhook) -> None:
    # Given a failed batch and a webhook answering 500
    with rt.sessions() as session, session.begin():
        digest = Digest(week="2026-W49", subject="s", state="sending")
        session.add(digest)
        session.flush()
        batch = DeliveryBatch(digest_id=digest.id, number=3, state="failed", recipient_count=2, error="timeout")
        session.add(batch)
        session.flush()
        batch_id, digest_id = batch.id, digest.id
        event = events.record(session, "delivery.batch_failed", batch_id=batch_id, digest_id=digest_id)
        session.flush()
        event_id = event.id
    hook.status = 500

    # When the event is handled, then handled again once the webhook is back
    with pytest.raises(alerts.AlertNotSent):
        events.handle(rt.sessions, event_id)
    with rt.sessions() as session:
        assert session.query(AlertIncident).count() == 0  # rolled back with the failed call
    hook.status = 200
    assert events.handle(rt.sessions, event_id) is True

    # Then exactly one alert arrived
    assert len(hook.texts("Delivery batch 3 ")) == 1
