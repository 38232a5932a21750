"""How many messages each queue holds, by state, read from the broker itself.

Every queue found in the broker is listed, not only those this process declares: a worker of an
older release, or a queue of another app sharing the namespace, shows up too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import dramatiq
from dramatiq.common import dq_name, q_name

from services.ops import redis_layout as keys
from services.ops.workers import alive_worker_ids


@dataclass(frozen=True)
class QueueDepth:
    name: str
    ready: int
    delayed: int
    in_flight: int
    dead: int
    #: Part of ``in_flight`` fetched by workers that stopped sending heartbeats; the broker puts
    #: them back on the queue once the heartbeat timeout has passed.
    stranded: int = 0
    declared: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def declared_queues(broker: dramatiq.Broker) -> set[str]:
    return {q_name(name) for name in broker.get_declared_queues()}


def queue_depths(broker: dramatiq.Broker) -> list[QueueDepth]:
    """Every queue with its ready, delayed, in-flight and dead-lettered counts, sorted by name."""
    if getattr(broker, "client", None) is not None:
        return _redis_depths(broker)
    return _stub_depths(broker)


def _redis_depths(broker: Any) -> list[QueueDepth]:
    client, ns = broker.client, broker.namespace
    declared = declared_queues(broker)
    names = set(declared)
    held: dict[str, list[tuple[str, str]]] = {}
    for raw in client.scan_iter(match=f"{keys.escape_glob(ns)}:*", count=1000):
        key = raw.decode() if isinstance(raw, bytes) else raw
        acks = keys.parse_acks(ns, key)
        if acks is not None:
            worker, queue = acks
            if not queue.endswith(keys.DELAYED):  # a worker holding a delayed message: counted as delayed
                held.setdefault(queue, []).append((worker, key))
            names.add(q_name(queue))
            continue
        queue = keys.queue_of(ns, key)
        if queue:
            names.add(queue)
    ordered = sorted(names)
    pipe = client.pipeline(transaction=False)
    for name in ordered:
        pipe.llen(keys.ready(ns, name))
        pipe.hlen(keys.delayed_messages(ns, name))
        pipe.zcard(keys.dead(ns, name))
        for _worker, key in held.get(name, ()):
            pipe.scard(key)
    # A key of the wrong type (something else sharing the namespace) reads as 0, not as a failure.
    results = iter(0 if isinstance(value, Exception) else value for value in pipe.execute(raise_on_error=False))
    alive = alive_worker_ids(broker)
    depths = []
    for name in ordered:
        ready, delayed, dead = next(results), next(results), next(results)
        in_flight = stranded = 0
        for worker, _key in held.get(name, ()):
            count = next(results)
            in_flight += count
            stranded += 0 if worker in alive else count
        depths.append(QueueDepth(name, ready, delayed, in_flight, dead, stranded, name in declared))
    return depths


def _stub_depths(broker: Any) -> list[QueueDepth]:
    names = sorted(declared_queues(broker) | {q_name(name) for name in broker.dead_letters_by_queue})
    depths = []
    for name in names:
        ready_queue = broker.queues.get(name)
        delay_queue = broker.queues.get(dq_name(name))
        ready = ready_queue.qsize() if ready_queue is not None else 0
        in_flight = ready_queue.unfinished_tasks - ready if ready_queue is not None else 0
        delayed = delay_queue.unfinished_tasks if delay_queue is not None else 0
        dead = len(broker.dead_letters_by_queue.get(name, ())) + len(broker.dead_letters_by_queue.get(dq_name(name), ()))
        depths.append(QueueDepth(name, ready, delayed, max(in_flight, 0), dead, 0, True))
    return depths
