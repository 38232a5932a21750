"""Per-host politeness: at most a few polls of one host at a time, across every worker process.

A dramatiq ConcurrentRateLimiter keyed by host, on Redis in production (shared by all workers)
and on dramatiq's in-memory StubBackend in embedded mode (one process).
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


class _Backends:
    lock = threading.Lock()
    by_url: dict[str | None, RateLimiterBackend] = {}


def backend(settings: Settings) -> RateLimiterBackend:
    """One limiter backend per process (a Redis connection pool), shared by every host's limiter."""
    with _Backends.lock:
        found = _Backends.by_url.get(settings.redis_url)
        if found is None:
            found = StubBackend() if settings.redis_url is None else RedisBackend(url=settings.redis_url)
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
