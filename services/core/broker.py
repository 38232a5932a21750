"""The dramatiq broker: Redis in production, a StubBroker with an in-process worker when embedded.

The broker is set before any actor is declared; ``actor()`` refuses to declare one otherwise,
instead of letting dramatiq silently build its default RabbitMQ broker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from services.core.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

QUEUES = ("ingest", "detect", "events", "digest", "mail", "webhooks")
#: Retries back off exponentially from 1 s to 5 min; a message older than a day is dropped.
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 300_000
MAX_AGE_MS = 24 * 3600 * 1000
TIME_LIMIT_MS = 10 * 60 * 1000


class _Slot:
    broker: dramatiq.Broker | None = None


def middleware(settings: Settings) -> list[dramatiq.Middleware]:
    from services.core.middleware.message_log import MessageLog
    from services.core.middleware.queue_stats import QueueStats
    from services.core.middleware.worker_registry import WorkerRegistry

    # First in the stack: their after_ hooks run last, once Retries has decided a message's fate.
    stack: list[dramatiq.Middleware] = [
        MessageLog(),
        QueueStats(),
        WorkerRegistry(),
        AgeLimit(max_age=MAX_AGE_MS),
        TimeLimit(time_limit=TIME_LIMIT_MS),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=8, min_backoff=MIN_BACKOFF_MS, max_backoff=MAX_BACKOFF_MS),
        CurrentMessage(),
    ]
    if settings.worker_metrics:
        from dramatiq.middleware.prometheus import Prometheus

        stack.insert(0, Prometheus())
    return stack


def build_broker(settings: Settings) -> dramatiq.Broker:
    if settings.embedded:
        return StubBroker(middleware=middleware(settings))
    return RedisBroker(url=settings.redis_url, namespace=settings.redis_namespace, middleware=middleware(settings),
                       heartbeat_timeout=settings.broker_heartbeat_timeout_ms)


def setup(broker: dramatiq.Broker) -> dramatiq.Broker:
    """Make ``broker`` the one actors are declared on; call once, before importing actor modules."""
    for queue in QUEUES:
        broker.declare_queue(queue)
    dramatiq.set_broker(broker)
    _Slot.broker = broker
    return broker


def current() -> dramatiq.Broker:
    if _Slot.broker is None:
        raise RuntimeError("the broker is not set up: call services.core.broker.setup() before declaring actors")
    return _Slot.broker


def actor(queue_name: str, **options: Any) -> Callable[[F], F]:
    """Declare an actor on the project's broker, on one of its named queues."""
    if queue_name not in QUEUES:
        raise ValueError(f"unknown queue {queue_name!r}; queues are {', '.join(QUEUES)}")

    def decorate(fn: F) -> F:
        return dramatiq.actor(fn, broker=current(), queue_name=queue_name, **options)  # type: ignore[return-value]

    return decorate
