"""Prometheus metrics of the project, computed at scrape time from the broker and the store of record.

Nothing is counted in process memory, so every web process answers the same figures and a restart
loses nothing. dramatiq's own metrics come from its Prometheus middleware in the workers; when
their multiprocess directory is shared with the web process, ``/metrics`` includes them too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import dramatiq
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core.db.models import DeliveryBatch, Digest, Entry, Event, Tool, WebhookBatch, WebhookEvent
from services.core.domain import BatchState, DigestState, ToolState
from services.ops import store
from services.ops.overview import queue_rows
from services.ops.workers import workers

QUEUE_STATES = ("ready", "delayed", "in_flight", "dead")


class ProjectCollector(Collector):
    def __init__(self, broker: Callable[[], dramatiq.Broker], session: Session) -> None:
        self._broker = broker
        self._session = session

    def collect(self) -> Iterator[Metric]:
        yield from self._queues()
        yield from self._store(self._session)

    def _queues(self) -> Iterator[Metric]:
        broker = self._broker()
        depth = GaugeMetricFamily("verdicts_queue_messages", "Messages in a broker queue, by state",
                                  labels=["queue", "state"])
        processed = GaugeMetricFamily("verdicts_queue_processed_last_hour",
                                      "Messages a queue's workers handled in the last hour, by outcome",
                                      labels=["queue", "outcome"])
        for row in queue_rows(broker):
            values = row.depth.as_dict()
            for state in QUEUE_STATES:
                depth.add_metric([row.depth.name, state], values[state])
            processed.add_metric([row.depth.name, "processed"], row.hour.processed_total)
            processed.add_metric([row.depth.name, "failed"], row.hour.failed_total)
        yield depth
        yield processed
        alive = GaugeMetricFamily("verdicts_workers_alive", "Worker processes with a fresh broker heartbeat")
        alive.add_metric([], sum(1 for worker in workers(broker) if worker.alive and worker.role == "worker"))
        yield alive

    def _store(self, session: Session) -> Iterator[Metric]:
        sources = GaugeMetricFamily("verdicts_sources", "Sources by state", labels=["state"])
        for state, count in store.sources_by_state(session).items():
            sources.add_metric([state], count)
        yield sources
        yield CounterMetricFamily("verdicts_entries_ingested", "Feed entries stored",
                                  value=session.scalar(select(func.count()).select_from(Entry)) or 0)
        yield GaugeMetricFamily("verdicts_candidates_queued", "Candidate tools waiting for review",
                                value=session.scalar(select(func.count()).select_from(Tool)
                                                     .where(Tool.state == ToolState.CANDIDATE)) or 0)
        yield CounterMetricFamily("verdicts_digests_sent", "Weekly digests sent",
                                  value=session.scalar(select(func.count()).select_from(Digest)
                                                       .where(Digest.state == DigestState.SENT)) or 0)
        yield CounterMetricFamily("verdicts_recipients_sent", "Digest recipients handed to the mail service",
                                  value=session.scalar(select(func.coalesce(func.sum(DeliveryBatch.recipient_count), 0))
                                                       .where(DeliveryBatch.state == BatchState.SENT)) or 0)
        batches = GaugeMetricFamily("verdicts_delivery_batches", "Delivery batches by state", labels=["state"])
        for state, count in store.batches_by_state(session).items():
            batches.add_metric([state], count)
        yield batches
        webhook = CounterMetricFamily("verdicts_webhook_events", "Mail service webhook events received, by type",
                                      labels=["type"])
        for kind, count in session.execute(select(WebhookEvent.event, func.count()).group_by(WebhookEvent.event)):
            webhook.add_metric([kind], count)
        yield webhook
        stored = GaugeMetricFamily("verdicts_webhook_batches", "Stored Event Webhook posts by state (stored: "
                                   "waiting for the worker; failed: kept with their error)", labels=["state"])
        for state, count in session.execute(select(WebhookBatch.state, func.count()).group_by(WebhookBatch.state)):
            stored.add_metric([str(state)], count)
        yield stored
        yield GaugeMetricFamily("verdicts_outbox_lag_seconds", "Age of the oldest unhandled outbox event",
                                value=store.outbox_lag_seconds(session))
        yield GaugeMetricFamily("verdicts_outbox_unhandled", "Outbox events not handled yet",
                                value=session.scalar(select(func.count()).select_from(Event)
                                                     .where(Event.handled_at.is_(None))) or 0)


def worker_metrics_dir(environ: dict[str, str] | None = None) -> Path | None:
    """The directory dramatiq's Prometheus middleware writes to, when this process can see it."""
    environ = dict(os.environ) if environ is None else environ
    for name in ("dramatiq_prom_db", "PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir"):
        value = environ.get(name)
        if value and Path(value).is_dir():
            return Path(value)
    return None


def exposition(broker: Callable[[], dramatiq.Broker], session: Session, worker_dir: Path | None = None) -> bytes:
    """The Prometheus text exposition: the project's metrics, and the workers' when ``worker_dir`` is given.

    ``session`` reads the database figures; the caller owns its transaction (nothing is written).
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProjectCollector(broker, session))
    if worker_dir is not None:
        MultiProcessCollector(registry, path=str(worker_dir))
    return generate_latest(registry)
