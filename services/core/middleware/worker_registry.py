"""Which queues each worker process consumes, kept beside the broker's heartbeats.

The Redis broker's heartbeats say only that a worker id is alive; this records, per worker id
(the broker's ``broker_id``, which is what the heartbeats hold), its queues, host and pid, so the
ops page can show an idle worker's queues too.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import Any

import dramatiq
from dramatiq.common import q_name
from dramatiq.middleware import Middleware


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def registry_key(namespace: str) -> str:
    return f"{namespace}:__ops__.workers"


class WorkerRegistry(Middleware):
    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        client = getattr(broker, "client", None)
        if client is None:
            return
        about = {
            "queues": sorted({q_name(name) for name in worker.consumers}),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_ms": int(time.time() * 1000),
        }
        namespace, me = broker.namespace, broker.broker_id  # type: ignore[attr-defined]
        client.hset(registry_key(namespace), me, json.dumps(about))
        # Workers killed without a shutdown leave their entry behind: drop those the broker forgot.
        known = {_text(member) for member in client.zrange(f"{namespace}:__heartbeats__", 0, -1)} | {me}
        stale = [worker for worker in client.hkeys(registry_key(namespace)) if _text(worker) not in known]
        if stale:
            client.hdel(registry_key(namespace), *stale)

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        client = getattr(broker, "client", None)
        if client is not None:
            client.hdel(registry_key(broker.namespace), broker.broker_id)  # type: ignore[attr-defined]
