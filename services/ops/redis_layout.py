"""Where dramatiq 2's Redis broker keeps things (see dramatiq/brokers/redis/dispatch.lua).

For a namespace ``ns`` and a queue ``q``:
``ns:q`` list of ready message ids; ``ns:q.msgs`` hash id → message (ready and in flight);
``ns:q.DQ`` / ``ns:q.DQ.msgs`` the same for delayed messages (retries waiting for their eta);
``ns:q.XQ`` sorted set of dead-lettered ids by time, ``ns:q.XQ.msgs`` their messages;
``ns:__acks__.<worker id>.<q>`` set of ids a worker fetched and has not acked yet;
``ns:__heartbeats__`` sorted set of worker ids by their last command (ms since epoch).
"""

from __future__ import annotations

import re

DELAYED, DEAD, MESSAGES = ".DQ", ".XQ", ".msgs"
ACKS, HEARTBEATS = "__acks__", "__heartbeats__"


def escape_glob(text: str) -> str:
    """``text`` with Redis glob characters escaped, for SCAN MATCH."""
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


def ready(ns: str, queue: str) -> str:
    return f"{ns}:{queue}"


def messages(ns: str, queue: str) -> str:
    return f"{ns}:{queue}{MESSAGES}"


def delayed(ns: str, queue: str) -> str:
    return f"{ns}:{queue}{DELAYED}"


def delayed_messages(ns: str, queue: str) -> str:
    return f"{ns}:{queue}{DELAYED}{MESSAGES}"


def dead(ns: str, queue: str) -> str:
    return f"{ns}:{queue}{DEAD}"


def dead_messages(ns: str, queue: str) -> str:
    return f"{ns}:{queue}{DEAD}{MESSAGES}"


def heartbeats(ns: str) -> str:
    return f"{ns}:{HEARTBEATS}"


def acks_pattern(ns: str) -> str:
    return f"{escape_glob(ns)}:{ACKS}.*"


def parse_acks(ns: str, key: str) -> tuple[str, str] | None:
    """``ns:__acks__.<worker>.<queue>`` → (worker id, queue); the worker id (a UUID) has no dot."""
    prefix = f"{ns}:{ACKS}."
    if not key.startswith(prefix):
        return None
    worker, _, queue = key[len(prefix):].partition(".")
    return (worker, queue) if worker and queue else None


def queue_of(ns: str, key: str) -> str | None:
    """The canonical queue a broker key belongs to, or None for any other key.

    Only the message hashes (``.msgs``, ``.DQ.msgs``, ``.XQ.msgs``) and dead-letter sets (``.XQ``)
    are read as queues: every queue holding a message has one, and other keys that share the
    namespace (rate limiters, flags) are not mistaken for queues.
    """
    prefix = f"{ns}:"
    if not key.startswith(prefix):
        return None
    name = key[len(prefix):]
    if name.startswith("__") or not name.endswith((MESSAGES, DEAD)):
        return None
    name = name.removesuffix(MESSAGES)
    for suffix in (DEAD, DELAYED):
        name = name.removesuffix(suffix)
    return name or None
