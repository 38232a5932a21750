"""One queue row as the page, the JSON API and the CLI show it: depths from the broker, the last hour's counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dramatiq

from services.ops.queues import QueueDepth, queue_depths
from services.ops.throughput import Throughput, last_hour


@dataclass(frozen=True)
class QueueRow:
    depth: QueueDepth
    hour: Throughput

    def as_dict(self) -> dict[str, Any]:
        return {**self.depth.as_dict(), "processed_last_hour": self.hour.processed_total,
                "failed_last_hour": self.hour.failed_total}


def queue_rows(broker: dramatiq.Broker) -> list[QueueRow]:
    """Every queue with figures now and over the last hour (a queue that only has history is listed too)."""
    depths = {depth.name: depth for depth in queue_depths(broker)}
    hour = last_hour(broker)
    for name in hour.keys() - depths.keys():
        depths[name] = QueueDepth(name, 0, 0, 0, 0, 0, declared=False)
    return [QueueRow(depths[name], hour.get(name, Throughput())) for name in sorted(depths)]
