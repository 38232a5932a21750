"""Workers as the broker sees them: one heartbeat entry per worker process, refreshed on every command."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import dramatiq
from dramatiq.common import q_name

from services.core.middleware.worker_registry import registry_key
from services.ops import redis_layout as keys

DEFAULT_HEARTBEAT_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class WorkerSeen:
    id: str
    last_seen_ms: int
    alive: bool
    queues: list[str] = field(default_factory=list)
    host: str | None = None
    pid: int | None = None
    #: ``worker`` when it consumes queues; ``sender`` for a process that only enqueues (web,
    #: scheduler): the broker records a heartbeat for every process that talks to it.
    role: str = "worker"

    @property
    def seconds_ago(self) -> float:
        return max(0.0, time.time() - self.last_seen_ms / 1000)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds_ago": round(self.seconds_ago, 1)}


def heartbeat_timeout_ms(broker: dramatiq.Broker) -> int:
    return int(getattr(broker, "heartbeat_timeout", DEFAULT_HEARTBEAT_TIMEOUT_MS))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def alive_worker_ids(broker: Any) -> set[str]:
    cutoff = time.time() * 1000 - heartbeat_timeout_ms(broker)
    return {_text(member) for member in broker.client.zrangebyscore(keys.heartbeats(broker.namespace), cutoff, "+inf")}


def workers(broker: dramatiq.Broker) -> list[WorkerSeen]:
    """Every worker in the heartbeats set (alive ones first) with its queues, host and pid.

    A worker that stopped stays in the set until the broker's maintenance has put its
    unacknowledged messages back; it is listed as not alive until then.
    """
    client = getattr(broker, "client", None)
    if client is None:
        return []
    ns = broker.namespace  # type: ignore[attr-defined]
    cutoff = time.time() * 1000 - heartbeat_timeout_ms(broker)
    registered = {_text(worker): json.loads(about) for worker, about in client.hgetall(registry_key(ns)).items()}
    holding: dict[str, set[str]] = {}
    for raw in client.scan_iter(match=keys.acks_pattern(ns), count=1000):
        parsed = keys.parse_acks(ns, _text(raw))
        if parsed is not None:
            holding.setdefault(parsed[0], set()).add(q_name(parsed[1]))
    seen = []
    for member, score in client.zrange(keys.heartbeats(ns), 0, -1, withscores=True):
        worker_id = _text(member)
        about = registered.get(worker_id, {})
        queues = set(about.get("queues", ())) | holding.get(worker_id, set())
        role = "worker" if worker_id in registered or worker_id in holding else "sender"
        seen.append(WorkerSeen(worker_id, int(score), score >= cutoff, sorted(queues), about.get("host"),
                               about.get("pid"), role))
    return sorted(seen, key=lambda worker: (worker.role != "worker", not worker.alive, -worker.last_seen_ms))
