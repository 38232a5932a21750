"""The scheduler's ticks: relay and sweep the outbox, give a dead worker's messages back, enqueue due
sources, compile the weekly digest, hand due outgoing webhook deliveries to the worker.

Every tick is idempotent, so running two schedulers costs a little work and breaks nothing.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from services.core import broker, outbox_actors, runtime
from services.core.broker_requeue import requeue_from_dead_workers
from services.delivery.actors import sweep_stuck_batches
from services.digest.actors import compile_digest
from services.hooks.actors import dispatch_due as dispatch_due_webhooks
from services.ingest.actors import enqueue_due_sources
from services.ops import alerts

log = logging.getLogger(__name__)


def _safely(job):  # noqa: ANN001, ANN202 - wraps a zero-argument tick
    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("scheduler tick %s failed; it runs again at its next time", job.__name__)

    run.__name__ = job.__name__
    return run


def requeue_dead_workers() -> None:
    """The requeue tick: a crashed worker's messages return within its heartbeat timeout plus this tick."""
    requeue_from_dead_workers(broker.current())


def add_ticks(scheduler: BaseScheduler) -> BaseScheduler:
    settings = runtime.current().settings
    scheduler.add_job(_safely(outbox_actors.relay_and_sweep), "interval", seconds=settings.relay_interval_seconds,
                      id="outbox", max_instances=1, coalesce=True)
    scheduler.add_job(_safely(requeue_dead_workers), "interval", seconds=settings.relay_interval_seconds,
                      id="requeue", max_instances=1, coalesce=True)
    scheduler.add_job(_safely(enqueue_due_sources), "interval", seconds=settings.poll_tick_seconds,
                      id="poll", max_instances=1, coalesce=True)
    scheduler.add_job(_safely(alerts.check), "interval", seconds=settings.alert_check_seconds, id="alerts",
                      max_instances=1, coalesce=True)
    scheduler.add_job(_safely(sweep_stuck_batches), "interval", minutes=5, id="stuck-batches", coalesce=True)
    scheduler.add_job(_safely(dispatch_due_webhooks), "interval", seconds=settings.relay_interval_seconds,
                      id="webhooks", max_instances=1, coalesce=True)
    minute, hour, day, month, weekday = settings.digest_cron.split()
    scheduler.add_job(_safely(compile_digest.send), CronTrigger(minute=minute, hour=hour, day=day, month=month,
                      day_of_week=weekday, timezone=settings.digest_timezone), id="digest", coalesce=True)
    return scheduler
