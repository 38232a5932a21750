"""One log line per handled message: actor, message id, queue, duration and outcome."""

from __future__ import annotations

import logging
import time
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

log = logging.getLogger("verdicts.messages")
_STARTED = "_verdicts_started"


def outcome(message: Any, exception: BaseException | None) -> str:
    """``done``, ``retrying`` (Retries sent it again), ``dead-lettered`` or ``skipped``."""
    if exception is None:
        return "skipped" if message.failed else "done"
    return "dead-lettered" if message.failed else "retrying"


class MessageLog(Middleware):
    """Placed before Retries in the stack, so its ``after_`` hook runs after Retries has decided."""

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        setattr(message, _STARTED, time.monotonic())

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        started = getattr(message, _STARTED, None)
        duration_ms = round((time.monotonic() - started) * 1000, 1) if started is not None else None
        result_word = outcome(message, exception)
        fields = {
            "actor": message.actor_name,
            "message_id": message.message_id,
            "queue": message.queue_name,
            "duration_ms": duration_ms,
            "outcome": result_word,
            "retries": message.options.get("retries", 0),
        }
        if exception is not None:
            fields["error"] = f"{type(exception).__name__}: {exception}"
        level = logging.INFO if exception is None else logging.WARNING
        log.log(level, "%s %s %s in %s ms", message.actor_name, message.message_id, result_word, duration_ms,
                extra=fields)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self.after_process_message(broker, message)
