"""/metrics: Prometheus text the official parser reads, with the project's figures and the workers' dramatiq metrics."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from services.core.db.base import utcnow
from services.core.db.models import DeliveryBatch, Digest, Entry, Event, Source, Tool, WebhookEvent
from services.core.runtime import Runtime
from services.web.app import create_app
from tests.ops.conftest import wait_until, worker_process

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def families(text: str) -> dict[str, tuple[str, dict[tuple[tuple[str, str], ...], float]]]:
    """Family name → (type, {sorted labels of a sample: value}) of every sample but histogram parts."""
    parsed = {}
    for family in text_string_to_metric_families(text):
        samples = {tuple(sorted(sample.labels.items())): sample.value for sample in family.samples
                   if sample.name in (family.name, f"{family.name}_total")}
        parsed[family.name] = (family.type, samples)
    return parsed


def seed(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        active = Source(url="https://feeds.example.org/a.xml")
        paused = Source(url="https://feeds.example.org/b.xml", state="paused")
        session.add_all([active, paused])
        session.flush()
        session.add_all([Entry(source_id=active.id, guid=f"g{n}", content_hash=f"h{n}") for n in range(3)])
        session.add_all([Tool(slug="one", name="One"), Tool(slug="two", name="Two", state="approved")])
        digest = Digest(week="2026-W48", subject="This week", state="sent", sent_at=utcnow())
        session.add(digest)
        session.flush()
        session.add_all([DeliveryBatch(digest_id=digest.id, number=1, state="sent", recipient_count=5),
                         DeliveryBatch(digest_id=digest.id, number=2, state="ambiguous", recipient_count=4)])
        session.add_all([WebhookEvent(sg_event_id=f"e{n}", event=kind)
                         for n, kind in enumerate(["delivered", "delivered", "bounce"])])
        session.add(Event(type="probe.waiting", payload={}, created_at=utcnow() - dt.timedelta(seconds=90)))


def test_metrics_parse_with_the_project_figures_and_the_workers_dramatiq_metrics(
        rt: Runtime, make_probe, tmp_path: Path, monkeypatch) -> None:
    # Given sources, entries, a candidate, a sent digest, webhook events, a waiting event, and a real
    # worker process with dramatiq's Prometheus middleware that handled two messages
    seed(rt)
    probe = make_probe()
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    with worker_process(probe.queue, metrics_dir=metrics_dir, metrics_port=free_port()):
        probe.succeed.send(1)
        probe.succeed.send(2)
        probe.fail.send("x", 3)
        client = TestClient(create_app(rt))
        monkeypatch.setenv("dramatiq_prom_db", str(metrics_dir))

        def scraped() -> dict:
            found = families(client.get("/metrics").text)
            done = found.get("dramatiq_messages", ("", {}))[1]
            # The worker counts a message before its consumer moves a failed one to the dead letters:
            # both must have happened, or a scrape between the two sees the failure but no dead letter.
            dead = found.get("verdicts_queue_messages", ("", {}))[1].get((("queue", probe.queue), ("state", "dead")))
            return found if sum(done.values()) == 3 and dead == 1 else {}

        # When /metrics is scraped (until the worker has counted its three messages and the failed one is dead)
        found = wait_until(scraped, what="the worker's dramatiq metrics")
        response = client.get("/metrics")

    # Then it is Prometheus text, and each family has the expected type and figures
    assert response.headers["content-type"].startswith("text/plain")
    queue = (("queue", probe.queue),)
    assert found["verdicts_queue_messages"][0] == "gauge"
    assert found["verdicts_queue_messages"][1][(*queue, ("state", "dead"))] == 1
    assert found["verdicts_queue_messages"][1][(*queue, ("state", "ready"))] == 0
    assert found["verdicts_queue_processed_last_hour"][1][(("outcome", "processed"), *queue)] == 2
    assert found["verdicts_sources"] == ("gauge", {(("state", "active"),): 1, (("state", "paused"),): 1})
    assert found["verdicts_entries_ingested"] == ("counter", {(): 3})
    assert found["verdicts_candidates_queued"] == ("gauge", {(): 1})
    assert found["verdicts_digests_sent"] == ("counter", {(): 1})
    assert found["verdicts_recipients_sent"] == ("counter", {(): 5})
    assert found["verdicts_delivery_batches"][1] == {(("state", "sent"),): 1, (("state", "ambiguous"),): 1}
    assert found["verdicts_webhook_events"] == ("counter", {(("type", "bounce"),): 1, (("type", "delivered"),): 2})
    assert found["verdicts_outbox_lag_seconds"][0] == "gauge" and found["verdicts_outbox_lag_seconds"][1][()] >= 90
    assert found["verdicts_outbox_unhandled"] == ("gauge", {(): 1})
    assert found["verdicts_workers_alive"][0] == "gauge" and found["verdicts_workers_alive"][1][()] >= 1
    assert found["dramatiq_messages"][0] == "counter"
    assert found["dramatiq_message_errors"][0] == "counter"
    assert sum(found["dramatiq_message_errors"][1].values()) == 1
    assert found["dramatiq_message_duration_milliseconds"][0] == "histogram"
