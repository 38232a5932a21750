"""Per-host politeness: at most a few polls of one host at a time, across every worker process.

A dramatiq ConcurrentRateLimiter keyed by host, on Redis in production (shared by all workers,
with scripted takes and give-backs) and on dramatiq's in-memory StubBackend in embedded mode.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from dramatiq.rate_limits import ConcurrentRateLimiter, RateLimiterBackend
from dramatiq.rate_limits.backends import RedisBackend, StubBackend

from services.core.settings import Settings

PER_HOST_LIMIT = 2
#: A slot held by a crashed worker frees itself after this long (longer than a poll may run).
SLOT_TTL_MS = 10 * 60 * 1000


#: Take ``amount`` if that keeps the count at most ``maximum``; 1 if taken. Keys: the slot key;
#: arguments: amount, maximum, ttl in ms.
_TAKE = """
local value = tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(ARGV[1])
if value > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], value, 'PX', ARGV[3])
return 1
"""
#: Give ``amount`` back unless that takes the count below ``minimum``; 1 if given back.
_GIVE_BACK = """
local value = tonumber(redis.call('GET', KEYS[1]) or '0') - tonumber(ARGV[1])
if value < tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], value, 'PX', ARGV[3])
return 1
"""


class ScriptedRedisBackend(RedisBackend):
    """dramatiq's Redis limiter backend with ``incr`` and ``decr`` one round trip each.

    dramatiq's own watch, read and write the key in a transaction (three or four round trips);
    every batch of polls takes and gives back a host's slot, so on a quiet cycle that was a good
    share of a batch's cost. The scripts run atomically in Redis instead.
    """

    def __init__(self, *, url: str) -> None:
        super().__init__(url=url)
        self._take = self.client.register_script(_TAKE)
        self._give_back = self.client.register_script(_GIVE_BACK)

    def incr(self, key: str, amount: int, maximum: int, ttl: int) -> bool:
        return bool(self._take(keys=[key], args=[amount, maximum, ttl]))

    def decr(self, key: str, amount: int, minimum: int, ttl: int) -> bool:
        return bool(self._give_back(keys=[key], args=[amount, minimum, ttl]))


class _Backends:
    lock = threading.Lock()
    by_url: dict[str | None, RateLimiterBackend] = {}


def backend(settings: Settings) -> RateLimiterBackend:
    """One limiter backend per process (a Redis connection pool), shared by every host's limiter."""
    with _Backends.lock:
        found = _Backends.by_url.get(settings.redis_url)
        if found is None:
            found = StubBackend() if settings.redis_url is None else ScriptedRedisBackend(url=settings.redis_url)
            _Backends.by_url[settings.redis_url] = found
        return found


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "unknown").lower()


def host_limiter(settings: Settings, host: str) -> ConcurrentRateLimiter:
    """The limiter of one host (a host name, or a URL whose host is taken)."""
    if "/" in host:
        host = host_of(host)
    key = f"{settings.redis_namespace}:ingest-host:{host}"
    return ConcurrentRateLimiter(backend(settings), key, limit=PER_HOST_LIMIT, ttl=SLOT_TTL_MS)
