"""How often one IP address, and one mail address, may ask to subscribe per window (dramatiq's limiters).

Redis holds the windows when the broker is Redis, so every web process shares them; embedded mode
keeps them in memory.
"""

from __future__ import annotations

import functools

from dramatiq.rate_limits import BucketRateLimiter, RateLimiterBackend
from dramatiq.rate_limits.backends import RedisBackend, StubBackend

from services.core.settings import Settings


@functools.lru_cache(maxsize=4)
def _backend(redis_url: str | None) -> RateLimiterBackend:
    return StubBackend() if redis_url is None else RedisBackend(url=redis_url)


def allowed(settings: Settings, kind: str, key: str) -> bool:
    """Count one attempt for ``key``; False once the window's limit is used up."""
    limit = settings.subscribe_limit_per_ip if kind == "ip" else settings.subscribe_limit_per_address
    limiter = BucketRateLimiter(_backend(settings.redis_url), f"{settings.redis_namespace}:subscribe:{kind}:{key}",
                                limit=limit, bucket=settings.subscribe_limit_window_seconds * 1000)
    with limiter.acquire(raise_on_failure=False) as acquired:
        return bool(acquired)
