"""Fixed-window counters every web process shares, and the Retry-After of a refusal.

Redis holds the counters when the broker is Redis (dramatiq's rate-limiter backends), so every web
process counts together; embedded mode keeps them in this process's memory. A window is
``window_seconds`` long and aligned to the epoch, as dramatiq's ``BucketRateLimiter`` aligns its buckets.
"""

from __future__ import annotations

import functools
import math

from dramatiq.rate_limits import RateLimiterBackend
from dramatiq.rate_limits.backends import RedisBackend, StubBackend


@functools.lru_cache(maxsize=4)
def backend(redis_url: str | None) -> RateLimiterBackend:
    """The shared backend: Redis at ``redis_url``, or memory when it is None (embedded mode)."""
    return StubBackend() if redis_url is None else RedisBackend(url=redis_url)


def seconds_left(window_seconds: int, now: float) -> int:
    """Whole seconds (at least 1) until the window holding ``now`` (epoch seconds) ends: a refusal's
    ``Retry-After`` (RFC 9110 §10.2.3, with 429 from RFC 6585 §4)."""
    return max(1, math.ceil(window_seconds - now % window_seconds))


def window_key(prefix: str, window_seconds: int, now: float) -> str:
    """The counter key of the window holding ``now``."""
    return f"{prefix}@{int(now // window_seconds)}"
