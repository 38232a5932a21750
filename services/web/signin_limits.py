"""Sign-in throttling: after repeated failed sign-ins, one account and one client address are locked
until the lock window ends (OWASP Authentication Cheat Sheet: protect against automated attacks).

Failures are counted per account (the address as typed, in its identity form) and per client address
(``request.client.host``, which believes X-Forwarded-For only from ``VERDICTS_TRUSTED_PROXIES``) in
epoch-aligned windows of ``signin_lock_seconds``, shared by every web process (``services.core.throttle``).
A locked sign-in is answered 429 with Retry-After, whatever the password.
"""

from __future__ import annotations

from collections.abc import Iterator

from services.core import throttle
from services.core.addresses import InvalidAddress, identity
from services.core.settings import Settings

#: No failure counter stops growing on its own; the window's end clears it.
_NO_MAXIMUM = 2**31


def _counters(settings: Settings, account: str, client: str, now: float) -> Iterator[tuple[str, int]]:
    """(key, allowed failures) of the account's and the client address's counters in the window of ``now``."""
    try:
        account = identity(account)
    except InvalidAddress:
        account = account.strip().lower()
    for kind, key, limit in (("account", account, settings.signin_failures_per_account),
                             ("address", client, settings.signin_failures_per_address)):
        prefix = f"{settings.redis_namespace}:signin:{kind}:{key}"
        yield throttle.window_key(prefix, settings.signin_lock_seconds, now), limit


def locked_for(settings: Settings, account: str, client: str, now: float) -> int | None:
    """Seconds until ``account`` may be tried from ``client`` again when either has used up its failures in
    the window of ``now`` (epoch seconds); None when a sign-in may be tried."""
    backend = throttle.backend(settings.redis_url)
    ttl = settings.signin_lock_seconds * 1000
    for key, limit in _counters(settings, account, client, now):
        if not backend.incr(key, 0, limit - 1, ttl):  # adds nothing: False once the count reached the limit
            return throttle.seconds_left(settings.signin_lock_seconds, now)
    return None


def failed(settings: Settings, account: str, client: str, now: float) -> None:
    """Count one failed sign-in to ``account`` from ``client`` at ``now`` (epoch seconds)."""
    backend = throttle.backend(settings.redis_url)
    for key, _limit in _counters(settings, account, client, now):
        backend.incr(key, 1, _NO_MAXIMUM, settings.signin_lock_seconds * 1000)
