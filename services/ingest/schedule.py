"""When to poll a source next: adapt to how often it publishes, back off on errors (with jitter)."""

from __future__ import annotations

import datetime as dt
import random
import statistics
from collections.abc import Sequence

MIN_INTERVAL = 5 * 60
MAX_INTERVAL = 24 * 3600
FIRST_BACKOFF = 5 * 60
PAUSE_AFTER_FAILURES = 8


def clamp(seconds: float) -> int:
    return int(max(MIN_INTERVAL, min(MAX_INTERVAL, seconds)))


def next_interval(previous: int, published: Sequence[dt.datetime], new_entries: int) -> int:
    """The next polling interval after a good poll.

    With enough dated entries, poll about twice per typical gap between publications (the median
    gap, so one quiet month does not dominate). Without dates, halve the interval after news and
    stretch it by half after silence. Always within 5 minutes .. 24 hours.
    """
    dates = sorted(set(published), reverse=True)[:20]
    if len(dates) >= 3:
        gaps = [(a - b).total_seconds() for a, b in zip(dates, dates[1:]) if a > b]
        if gaps:
            target = statistics.median(gaps) / 2
            # Move halfway toward the target so one odd poll does not swing the schedule.
            return clamp((previous + target) / 2 if not new_entries else min(previous, target))
    return clamp(previous / 2 if new_entries else previous * 1.5)


def failure_delay(failures: int, retry_after: float | None, rng: random.Random | None = None) -> float:
    """Seconds until the next try after ``failures`` failures in a row: 5 min doubling per failure
    up to 24 h, ±20 % jitter, never sooner than the server's Retry-After (in seconds, RFC 9110
    §10.2.3) up to ``MAX_INTERVAL``: a server asking for more (``Retry-After: 1e20``, a date in the
    year 9999) is asked again after a day, as a quiet source would be, and the delay stays a
    number any date can be moved by."""
    rng = rng or random.Random()
    backoff = min(MAX_INTERVAL, FIRST_BACKOFF * 2 ** max(0, min(failures - 1, 12)))
    return max(min(retry_after or 0.0, MAX_INTERVAL), backoff * rng.uniform(0.8, 1.2))
