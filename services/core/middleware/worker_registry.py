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
        client.hset(registry_key(broker.namespace), broker.broker_id, json.dumps(about))  # type: ignore[attr-defined]

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        client = getattr(broker, "client", None)
        if client is not None:
            client.hdel(registry_key(broker.namespace), broker.broker_id)  # type: ignore[attr-defined]
