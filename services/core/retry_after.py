"""The ``Retry-After`` header (RFC 9110 §10.2.3) read as a number of seconds to wait.

Shared by every client that honours it: the feed fetcher on 429/503 and the mail sender on a
throttled batch. Standard library only.
"""

from __future__ import annotations

import datetime as dt
import math
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, now: dt.datetime | None = None, *,
                      at_most: float | None = None) -> float | None:
    """How many seconds a ``Retry-After`` header value asks the client to wait.

    Input: the header's value, in either form RFC 9110 §10.2.3 allows:

    - delay-seconds, e.g. ``"120"`` (a decimal such as ``"1.5"`` is read too; a negative number
      means no wait);
    - an HTTP-date, e.g. ``"Wed, 21 Oct 2026 07:28:00 GMT"`` (the obsolete RFC 850 and asctime
      forms are accepted as §5.6.7 asks); HTTP-dates are always GMT, so a date without a zone is
      read as UTC. The wait is measured from ``now`` (default: the current time; a naive ``now``
      is read as UTC), and a date already past means no wait.

    Output: the seconds to wait, at least 0.0 and at most ``at_most`` when that is given; None
    when the value is absent, blank or unreadable (including ``NaN`` and infinities). Never raises.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = _seconds_until(text, now)
    if seconds is None or not math.isfinite(seconds):
        return None
    seconds = max(seconds, 0.0)
    return seconds if at_most is None else min(seconds, at_most)


def _seconds_until(http_date: str, now: dt.datetime | None) -> float | None:
    """Seconds from ``now`` until an HTTP-date (negative when it is past); None when unreadable."""
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    start = now if now is not None else dt.datetime.now(dt.UTC)
    return (_as_utc(when) - _as_utc(start)).total_seconds()


def _as_utc(moment: dt.datetime) -> dt.datetime:
    """An aware datetime as it is; a naive one read as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
