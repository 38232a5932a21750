"""Messages handled per queue and minute over the last hour (counted by the QueueStats middleware)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import dramatiq

from services.core.middleware.queue_stats import FAILED, PROCESSED, QueueStats, current_minute, minute_key

HOUR = 60


@dataclass
class Throughput:
    """Per-minute counts, oldest first; the last entry is the current (partial) minute."""

    processed: list[int] = field(default_factory=lambda: [0] * HOUR)
    failed: list[int] = field(default_factory=lambda: [0] * HOUR)

    @property
    def processed_total(self) -> int:
        return sum(self.processed)

    @property
    def failed_total(self) -> int:
        return sum(self.failed)


def last_hour(broker: dramatiq.Broker, now: float | None = None) -> dict[str, Throughput]:
    """Queue name → its last 60 minutes of processed and failed counts (queues with none are absent)."""
    first = current_minute(now) - HOUR + 1
    by_minute = _redis_minutes(broker, first) if getattr(broker, "client", None) is not None else _stub_minutes(broker, first)
    result: dict[str, Throughput] = {}
    for minute, counts in by_minute.items():
        slot = minute - first
        if not 0 <= slot < HOUR:
            continue
        for (queue, kind), count in counts.items():
            figures = result.setdefault(queue, Throughput())
            target = figures.processed if kind == PROCESSED else figures.failed if kind == FAILED else None
            if target is not None:
                target[slot] += count
    return result


def _redis_minutes(broker: Any, first: int) -> dict[int, Counter[tuple[str, str]]]:
    pipe = broker.client.pipeline(transaction=False)
    minutes = list(range(first, first + HOUR))
    for minute in minutes:
        pipe.hgetall(minute_key(broker.namespace, minute))
    by_minute: dict[int, Counter[tuple[str, str]]] = {}
    for minute, raw in zip(minutes, pipe.execute()):
        counts: Counter[tuple[str, str]] = Counter()
        for name, value in raw.items():
            queue, _, kind = (name.decode() if isinstance(name, bytes) else name).rpartition("|")
            counts[(queue, kind)] += int(value)
        by_minute[minute] = counts
    return by_minute


def _stub_minutes(broker: dramatiq.Broker, first: int) -> dict[int, Counter[tuple[str, str]]]:
    for middleware in broker.middleware:
        if isinstance(middleware, QueueStats):
            return middleware.counts_in_memory(first)
    return {}
