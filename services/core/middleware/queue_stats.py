"""Per-queue, per-minute counts of handled messages, and the last error of each dead letter.

dramatiq's Redis broker keeps no history, and a dead letter keeps only the message as it was
enqueued (without the error that killed it). This middleware records both where the ops page can
read them: in Redis under ``<namespace>:__ops__.…`` (a prefix the broker never uses for a queue),
or in memory for the embedded StubBroker, whose worker runs in the web process.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections import Counter, defaultdict
from typing import Any

import dramatiq
from dramatiq.common import q_name
from dramatiq.middleware import Middleware

#: Minutes of counts kept (the page shows the last hour).
KEEP_MINUTES = 120
PROCESSED, FAILED = "processed", "failed"


def minute_key(namespace: str, minute: int) -> str:
    return f"{namespace}:__ops__.minute.{minute}"


def failure_key(namespace: str, redis_message_id: str) -> str:
    return f"{namespace}:__ops__.failure.{redis_message_id}"


def current_minute(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // 60)


def failure_detail(message: Any, exception: BaseException | None) -> dict[str, Any]:
    """The last error of a message: a one-line summary, the traceback and when (ms since epoch)."""
    text = message.options.get("traceback")
    if text is None and exception is not None:
        text = "".join(traceback.format_exception(exception))
    error = f"{type(exception).__name__}: {exception}" if exception is not None else "failed before it ran"
    return {"error": error, "traceback": text or "", "failed_at": int(time.time() * 1000)}


class QueueStats(Middleware):
    """Placed before Retries in the stack, so its ``after_`` hook sees whether the message failed for good."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: Embedded mode only: minute → Counter of (queue, processed|failed).
        self.minutes: dict[int, Counter[tuple[str, str]]] = defaultdict(Counter)

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        queue = q_name(message.queue_name)
        field = FAILED if exception is not None or message.failed else PROCESSED
        client = getattr(broker, "client", None)
        if client is None:
            self._count_in_memory(queue, field)
            return
        namespace = broker.namespace  # type: ignore[attr-defined]
        key = minute_key(namespace, current_minute())
        pipe = client.pipeline(transaction=False)
        pipe.hincrby(key, f"{queue}|{field}", 1)
        pipe.expire(key, KEEP_MINUTES * 60)
        if message.failed:
            ttl_ms = getattr(broker, "dead_message_ttl", 7 * 86_400_000)
            pipe.set(failure_key(namespace, message.options["redis_message_id"]),
                     json.dumps(failure_detail(message, exception)), px=ttl_ms)
        pipe.execute()

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self.after_process_message(broker, message)

    def _count_in_memory(self, queue: str, field: str) -> None:
        minute = current_minute()
        with self._lock:
            self.minutes[minute][(queue, field)] += 1
            for old in [m for m in self.minutes if m <= minute - KEEP_MINUTES]:
                del self.minutes[old]

    def counts_in_memory(self, first_minute: int) -> dict[int, Counter[tuple[str, str]]]:
        with self._lock:
            return {minute: Counter(counts) for minute, counts in self.minutes.items() if minute >= first_minute}
