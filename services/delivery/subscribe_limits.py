"""How often one IP address, and one mail address, may ask to subscribe per window (dramatiq's limiters).

Redis holds the windows when the broker is Redis, so every web process shares them; embedded mode
keeps them in memory.
"""

from __future__ import annotations

from dramatiq.rate_limits import BucketRateLimiter

from services.core import throttle
from services.core.settings import Settings


def allowed(settings: Settings, kind: str, key: str) -> bool:
    """Count one attempt for ``key``; False once the window's limit is used up."""
    limit = settings.subscribe_limit_per_ip if kind == "ip" else settings.subscribe_limit_per_address
    limiter = BucketRateLimiter(throttle.backend(settings.redis_url),
                                f"{settings.redis_namespace}:subscribe:{kind}:{key}",
                                limit=limit, bucket=settings.subscribe_limit_window_seconds * 1000)
    with limiter.acquire(raise_on_failure=False) as acquired:
        return bool(acquired)


def retry_after(settings: Settings, now: float) -> int:
    """Seconds until a refused request may be tried again: the end of the current window (epoch-aligned, as
    ``BucketRateLimiter``'s buckets are)."""
    return throttle.seconds_left(settings.subscribe_limit_window_seconds, now)
