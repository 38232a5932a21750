"""HTTP fetching of sources: conditional GET, timeouts, a decoded-size cap, manual redirects with an
SSRF check on every hop. Knows nothing of storage: it takes validators in and hands a result out."""

from __future__ import annotations

import functools
import logging
import ssl
import threading
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from services.core.retry_after import parse_retry_after
from services.core.ssrf import GuardedBackend, GuardError, check_destination

USER_AGENT = "verdicts-feed-fetcher/0.1 (+https://github.com/verdicts; polite polling of release feeds)"
MAX_REDIRECTS = 5
PERMANENT_REDIRECTS = {301, 308}
REDIRECTS = {301, 302, 303, 307, 308}
ACCEPT_FEEDS = ("application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, "
                "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5")
# httpx logs every request at INFO; the poller records outcomes on the source instead.
logging.getLogger("httpx").setLevel(logging.WARNING)


class FetchError(Exception):
    """A fetch that produced no usable body; ``kind`` is a short machine-readable category."""

    def __init__(self, kind: str, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class FetchPolicy:
    timeout_seconds: float = 20.0
    connect_timeout_seconds: float = 5.0
    max_bytes: int = 15 * 1024 * 1024
    allow_private_networks: bool = False


@dataclass
class FetchResult:
    url: str
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


#: How many hosts' transports a thread keeps; the least recently used is closed beyond that.
TRANSPORTS_PER_THREAD = 16


class _ThreadTransports(threading.local):
    def __init__(self) -> None:
        self.by_host: OrderedDict[tuple[FetchPolicy, str], httpx.HTTPTransport] = OrderedDict()


_THREAD_TRANSPORTS = _ThreadTransports()


def transport_for(policy: FetchPolicy, url: str) -> httpx.HTTPTransport:
    """This thread's guarded transport for ``url``'s host (its connection kept alive between polls).

    One per host rather than one for every host: httpcore's pool looks at each connection it holds
    on every request (asking the kernel whether each idle one was closed), so a pool shared by many
    hosts costs more per conditional GET than the request itself. Per thread, so the transport a
    thread closes is never in use by another.
    """
    transports = _THREAD_TRANSPORTS.by_host
    key = (policy, urlsplit(url).netloc.lower())
    transport = transports.pop(key, None)
    if transport is None:
        transport = guarded_transport(policy)
        while len(transports) >= TRANSPORTS_PER_THREAD:
            transports.popitem(last=False)[1].close()
    transports[key] = transport
    return transport


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one (loading the CA bundle) costs ~20 ms,
    a transport that reuses it almost nothing."""
    return httpx.create_ssl_context()


def guarded_transport(policy: FetchPolicy) -> httpx.HTTPTransport:
    """An httpx transport whose every connection goes through the SSRF guard.

    Fetches go to the transport, not through an ``httpx.Client``: the client's layers (cookies,
    auth, redirects, proxies from the environment) are things a poll must not do or does itself,
    and on a 304 they cost as much as the request. Without a cookie jar, no source's cookies
    follow us to the next.
    """
    transport = httpx.HTTPTransport(verify=_tls_context(), retries=0,
                                    limits=httpx.Limits(max_connections=20, max_keepalive_connections=10))
    transport._pool._network_backend = GuardedBackend(policy.allow_private_networks)
    return transport


def _read_capped(response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    """Read the raw stream and decompress it in bounded steps, counting decoded bytes against the cap.

    httpx's own decoding hands a stacked ``gzip, gzip`` bomb back as one huge chunk, so the raw bytes
    are inflated here, at most ``max_bytes + 1`` at a time. A slow trickle stops at ``deadline``.
    """
    encodings = [e.strip().lower() for e in response.headers.get("content-encoding", "").split(",") if e.strip()]
    if any(e not in ("gzip", "x-gzip", "deflate", "identity") for e in encodings):
        raise FetchError("bad_encoding", f"unsupported content-encoding {encodings}")
    decoders = [zlib.decompressobj(47) for e in encodings if e != "identity"]
    body = bytearray()

    def grow(pieces: list[bytes], extra: int) -> None:
        if len(body) + extra + sum(map(len, pieces)) > max_bytes:
            raise FetchError("too_large", f"body larger than {max_bytes} bytes after decompression")

    for chunk in response.iter_raw():
        if time.monotonic() > deadline:
            raise FetchError("timeout", "the body took longer than the total timeout to arrive")
        pieces = [chunk]
        for decoder in reversed(decoders):  # the last encoding applied is undone first
            out: list[bytes] = []
            for data in pieces:
                while data:
                    try:
                        out.append(decoder.decompress(data, max_bytes - len(body) + 1))
                    except zlib.error as exc:
                        raise FetchError("bad_encoding", f"corrupt compressed body: {exc}") from exc
                    grow(out, 0)
                    data = decoder.unconsumed_tail
            pieces = out
        grow(pieces, 0)
        for piece in pieces:
            body.extend(piece)
    return bytes(body)


@functools.lru_cache(maxsize=4096)
def _url(text: str) -> httpx.URL:
    """Parsed once: a source is fetched at the same URL poll after poll (URLs are immutable)."""
    return httpx.URL(text)


def fetch(
    url: str,
    policy: FetchPolicy,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    transport: httpx.BaseTransport | None = None,
    accept: str = ACCEPT_FEEDS,
) -> FetchResult:
    """GET ``url`` with validators; follow at most five redirects, checking each hop.

    ``transport`` must come from :func:`guarded_transport`; without it this thread's guarded
    transport for the URL's host is used.
    """
    headers = {"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    timeouts = {"connect": policy.connect_timeout_seconds, "read": policy.timeout_seconds,
                "write": policy.timeout_seconds, "pool": policy.timeout_seconds}
    deadline = time.monotonic() + policy.timeout_seconds
    http = transport or transport_for(policy, url)
    current, all_permanent, seen = url, True, {url}
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            check_destination(current)
            response = http.handle_request(httpx.Request("GET", _url(current), headers=headers,
                                                         extensions={"timeout": timeouts}))
            try:
                if response.status_code in REDIRECTS:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError("bad_redirect", f"{response.status_code} without Location",
                                         status=response.status_code)
                    target = urljoin(current, location.strip())
                    if target in seen:
                        raise FetchError("redirect_loop", f"redirect loop at {target}", status=response.status_code)
                    seen.add(target)
                    all_permanent = all_permanent and response.status_code in PERMANENT_REDIRECTS
                    current = target
                    continue
                permanent = current if all_permanent and current != url else None
                return _finish(response, current, permanent, policy, deadline)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", f"timed out fetching {current}: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise FetchError("network", f"{type(exc).__name__} fetching {current}: {exc}") from exc
        except httpx.InvalidURL as exc:
            raise FetchError("bad_url", f"{current!r}: {exc}") from exc
        except GuardError as exc:  # the SSRF guard (services.core.ssrf), on this hop or when connecting
            raise FetchError(exc.kind, str(exc)) from exc
    raise FetchError("too_many_redirects", f"more than {MAX_REDIRECTS} redirects from {url}")


def _finish(response: httpx.Response, url: str, permanent: str | None, policy: FetchPolicy,
            deadline: float) -> FetchResult:
    status = response.status_code
    if status == 304:
        # A 304 has no body (h11 enforces it): reading the empty rest lets the keep-alive connection
        # go back to the pool instead of being closed, so the next poll of this host skips a connect.
        # Straight from the transport's stream: nothing to decode, so no decoder chain to set up.
        for _ in response.stream:  # type: ignore[union-attr]
            pass
        return FetchResult(url=url, status=304, etag=response.headers.get("etag"),
                           last_modified=response.headers.get("last-modified"), permanent_url=permanent)
    if status in (429, 503):
        raise FetchError("throttled", f"HTTP {status}", status=status,
                         retry_after=parse_retry_after(response.headers.get("retry-after")))
    if status == 410:
        raise FetchError("gone", "HTTP 410 Gone: the source was removed", status=status)
    if status >= 400:
        raise FetchError("http_status", f"HTTP {status}", status=status)
    body = _read_capped(response, policy.max_bytes, deadline)
    if not body.strip():
        raise FetchError("empty", "empty body", status=status)
    return FetchResult(
        url=url,
        status=status,
        body=body,
        headers={k.lower(): v for k, v in response.headers.items()},
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        permanent_url=permanent,
    )
