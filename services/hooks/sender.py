"""One POST of a webhook message through the SSRF guard; what came back, never an exception.

No redirect is followed (a 3xx is a failed attempt, as the Standard Webhooks spec expects), no proxy or
cookie of the environment is used, and at most ``ANSWER_BYTES`` of the answer are read, to report it.

An attempt has a deadline as well as timeouts: httpx's timeout bounds each connect, read and write, so
a receiver that drips its answer a byte a second would never time out. Every socket operation of an
attempt is therefore given at most the time left until the deadline (``DeadlineStream``), and none
starts after it, so the attempt is over within ``deadline_seconds`` of starting to connect.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from services.core import ssrf

USER_AGENT = "verdicts-webhooks/0.1"
#: How much of a failed answer's body is read at most, and kept with the attempt.
ANSWER_BYTES = 500


@dataclass(frozen=True)
class Outcome:
    """An attempt's result: the HTTP status (None when none came), its duration in whole milliseconds, an
    error text for anything but a 2xx (as the receiver or the network said it: ``deliveries`` cleans it
    before storing), and ``final`` when trying again cannot help (the guard refused)."""

    status: int | None
    duration_ms: int
    error: str | None = None
    final: bool = False

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class DeadlineExceeded(httpcore.ReadTimeout):
    """The attempt's deadline passed mid-request (httpx reports it as a ``ReadTimeout``)."""


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read, write and TLS handshake waits at most until ``deadline`` (a
    ``time.monotonic()`` value), on top of the caller's own timeout; past it, ``DeadlineExceeded``."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self.inner, self.deadline = inner, deadline

    def _left(self, timeout: float | None) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("the attempt's deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self._left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self._left(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return DeadlineStream(self.inner.start_tls(ssl_context, server_hostname, self._left(timeout)), self.deadline)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class DeadlineBackend(ssrf.GuardedBackend):
    """``ssrf.GuardedBackend`` whose connect and streams end at ``deadline`` (``time.monotonic()``)."""

    def __init__(self, allow_private_networks: bool, deadline: float) -> None:
        super().__init__(allow_private_networks)
        self.deadline = deadline

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("the attempt's deadline passed")
        timeout = left if timeout is None else min(timeout, left)
        return DeadlineStream(super().connect_tcp(host, port, timeout, local_address, socket_options), self.deadline)


def guarded_transport(allow_private_networks: bool, deadline: float) -> httpx.HTTPTransport:
    """An httpx transport whose connections go through ``DeadlineBackend`` (the address the guard checked,
    nothing after ``deadline``, a ``time.monotonic()`` value)."""
    transport = httpx.HTTPTransport(retries=0)
    transport._pool._network_backend = DeadlineBackend(allow_private_networks, deadline)
    return transport


def post(url: str, headers: dict[str, str], body: str, *, timeout_seconds: float, deadline_seconds: float,
         allow_private_networks: bool) -> Outcome:
    """POST ``body`` (UTF-8) with ``headers`` to ``url``. ``timeout_seconds`` bounds the connect and each
    read and write; ``deadline_seconds`` the whole attempt from its first connection (connect, TLS, sending,
    the status line and headers, and at most ``ANSWER_BYTES`` of a failed answer's body, read as sent:
    the answer is asked for without content coding). The DNS lookup of the guard is bounded by the
    system resolver's own timeout, not by the deadline."""
    started = time.monotonic()

    def took() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        ssrf.check_destination(url)
        with httpx.Client(transport=guarded_transport(allow_private_networks, started + deadline_seconds),
                          trust_env=False, follow_redirects=False, timeout=timeout_seconds,
                          headers={"user-agent": USER_AGENT, "accept-encoding": "identity"}) as client:
            with client.stream("POST", url, content=body.encode("utf-8"), headers=headers) as response:
                if 200 <= response.status_code < 300:
                    return Outcome(response.status_code, took())
                answer = b""
                for chunk in response.iter_raw(ANSWER_BYTES):
                    answer += chunk
                    if len(answer) >= ANSWER_BYTES:
                        break
                text = answer[:ANSWER_BYTES].decode("utf-8", "replace").strip()
                return Outcome(response.status_code, took(), f"HTTP {response.status_code}" + (f": {text}" if text else ""))
    except ssrf.GuardError as exc:
        return Outcome(None, took(), f"{exc.kind}: {exc}", final=exc.kind in ssrf.FORBIDDEN)
    except httpx.TimeoutException as exc:
        if time.monotonic() - started >= deadline_seconds:
            return Outcome(None, took(), f"deadline: no whole answer within {deadline_seconds:g} s")
        return Outcome(None, took(), f"timeout: {type(exc).__name__} after {timeout_seconds:g} s")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return Outcome(None, took(), f"network: {type(exc).__name__}: {exc}")
