"""Dead-lettered messages: browse them with their last error, retry one or all, purge a queue's.

A retried message goes back on its queue as a fresh attempt: same message id, retry count reset,
timestamp renewed (so the age limit does not drop it at once).
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import time
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.common import dq_name, q_name
from dramatiq.errors import ActorNotFound, DecodeError

from services.core.logging import mask_secrets, mask_value
from services.core.middleware.queue_stats import failure_key
from services.ops import redis_layout as keys

#: Options that describe past attempts; a retried message starts without them.
SPENT_OPTIONS = ("retries", "traceback", "requeue_timestamp", "eta", "redis_message_id")
LIST_LIMIT = 200


@dataclass(frozen=True)
class DeadLetter:
    id: str
    queue: str
    message_id: str
    actor: str
    args: list[Any]
    kwargs: dict[str, Any]
    retries: int
    error: str
    traceback: str
    dead_at: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "queue": self.queue, "message_id": self.message_id, "actor": self.actor,
            "args": self.args, "kwargs": self.kwargs, "retries": self.retries, "error": self.error,
            "traceback": self.traceback, "dead_at": self.dead_at.isoformat() if self.dead_at else None,
        }


def _from_ms(value: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(value / 1000, dt.UTC) if value else None


def _last_line(traceback_text: str) -> str:
    lines = [line for line in traceback_text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def masked_arguments(broker: dramatiq.Broker, message: dramatiq.Message) -> tuple[list[Any], dict[str, Any]]:
    """The message's arguments with secrets hidden; positional ones are judged by their parameter's
    name too when this process knows the actor (``token`` passed positionally is still a token)."""
    names: list[str] = []
    try:
        names = list(inspect.signature(broker.get_actor(message.actor_name).fn).parameters)
    except (ActorNotFound, TypeError, ValueError):
        pass
    args = [mask_value(value, names[i] if i < len(names) else "") for i, value in enumerate(message.args)]
    return args, mask_value(dict(message.kwargs))


def _letter(broker: dramatiq.Broker, letter_id: str, queue: str, message: dramatiq.Message, dead_ms: float | None,
            failure: dict[str, Any] | None) -> DeadLetter:
    args, kwargs = masked_arguments(broker, message)
    traceback_text = (failure or {}).get("traceback") or message.options.get("traceback") or ""
    error = (failure or {}).get("error") or _last_line(traceback_text) or "no error recorded"
    return DeadLetter(
        id=letter_id, queue=queue, message_id=message.message_id, actor=message.actor_name,
        args=args, kwargs=kwargs,
        retries=int(message.options.get("retries", 0)), error=mask_secrets(error),
        traceback=mask_secrets(traceback_text), dead_at=_from_ms(dead_ms),
    )


def _is_redis(broker: dramatiq.Broker) -> bool:
    return getattr(broker, "client", None) is not None


def dead_letters(broker: dramatiq.Broker, queue: str, limit: int = LIST_LIMIT) -> list[DeadLetter]:
    """The newest ``limit`` dead letters of ``queue``, newest first."""
    if not _is_redis(broker):
        messages = [*broker.dead_letters_by_queue.get(queue, ()), *broker.dead_letters_by_queue.get(dq_name(queue), ())]
        letters = [_letter(broker, m.message_id, queue, m._message,
                           m.options.get("requeue_timestamp"), None) for m in messages]
        return sorted(letters, key=lambda letter: letter.dead_at or dt.datetime.min.replace(tzinfo=dt.UTC),
                      reverse=True)[:limit]
    client, ns = broker.client, broker.namespace  # type: ignore[attr-defined]
    entries = client.zrevrange(keys.dead(ns, queue), 0, limit - 1, withscores=True)
    if not entries:
        return []
    ids = [member.decode() if isinstance(member, bytes) else member for member, _score in entries]
    pipe = client.pipeline(transaction=False)
    pipe.hmget(keys.dead_messages(ns, queue), ids)
    for letter_id in ids:
        pipe.get(failure_key(ns, letter_id))
    data, *failures = pipe.execute()
    letters = []
    for letter_id, (_member, score), raw, failure in zip(ids, entries, data, failures):
        if raw is None:
            continue
        try:
            message = dramatiq.Message.decode(raw)
        except DecodeError:  # a message this code cannot read is still listed, and can still be purged
            message = dramatiq.Message(queue_name=queue, actor_name="(unreadable)", args=(), kwargs={},
                                       options={}, message_id=letter_id)
        letters.append(_letter(broker, letter_id, queue, message, score, json.loads(failure) if failure else None))
    return letters


def fresh_attempt(message: dramatiq.Message) -> dramatiq.Message:
    options = {key: value for key, value in message.options.items() if key not in SPENT_OPTIONS}
    return dramatiq.Message(queue_name=q_name(message.queue_name), actor_name=message.actor_name,
                            args=message.args, kwargs=message.kwargs, options=options,
                            message_id=message.message_id, message_timestamp=int(time.time() * 1000))


def retry(broker: dramatiq.Broker, queue: str, letter_id: str) -> bool:
    """Put one dead letter back on its queue; False when it is gone (retried or purged meanwhile)."""
    if not _is_redis(broker):
        for name in (queue, dq_name(queue)):
            letters = broker.dead_letters_by_queue.get(name, [])
            for proxy in list(letters):
                if proxy.message_id == letter_id:
                    letters.remove(proxy)
                    broker.enqueue(fresh_attempt(proxy._message))
                    return True
        return False
    client, ns = broker.client, broker.namespace  # type: ignore[attr-defined]
    raw = client.hget(keys.dead_messages(ns, queue), letter_id)
    if raw is None:
        return False
    try:
        attempt = fresh_attempt(dramatiq.Message.decode(raw))
    except DecodeError:
        return False  # cannot be run again; it stays listed until purged
    if not client.zrem(keys.dead(ns, queue), letter_id):
        return False  # zrem decides which of two concurrent retries goes ahead
    broker.enqueue(attempt)
    client.hdel(keys.dead_messages(ns, queue), letter_id)
    client.delete(failure_key(ns, letter_id))
    return True


def letter_ids(broker: dramatiq.Broker, queue: str) -> list[str]:
    if not _is_redis(broker):
        return [m.message_id for name in (queue, dq_name(queue)) for m in broker.dead_letters_by_queue.get(name, ())]
    return [m.decode() if isinstance(m, bytes) else m
            for m in broker.client.zrange(keys.dead(broker.namespace, queue), 0, -1)]  # type: ignore[attr-defined]


def retry_all(broker: dramatiq.Broker, queue: str) -> int:
    """Put every dead letter of ``queue`` back on it; returns how many went back."""
    return sum(retry(broker, queue, letter_id) for letter_id in letter_ids(broker, queue))


def purge(broker: dramatiq.Broker, queue: str) -> int:
    """Drop every dead letter of ``queue`` for good; returns how many were dropped."""
    if not _is_redis(broker):
        dropped = 0
        for name in (queue, dq_name(queue)):
            letters = broker.dead_letters_by_queue.get(name, [])
            dropped += len(letters)
            letters.clear()
        return dropped
    client, ns = broker.client, broker.namespace  # type: ignore[attr-defined]
    ids = letter_ids(broker, queue)
    pipe = client.pipeline(transaction=True)
    pipe.zcard(keys.dead(ns, queue))
    pipe.delete(keys.dead(ns, queue), keys.dead_messages(ns, queue))
    dropped = pipe.execute()[0]
    if ids:
        client.delete(*(failure_key(ns, letter_id) for letter_id in ids))
    return int(dropped)
