"""HTTP fetching of sources: conditional GET, timeouts, a decoded-size cap, manual redirects with an
SSRF check on every hop. Knows nothing of storage: it takes validators in and hands a result out."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import zlib
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

USER_AGENT = "verdicts-feed-fetcher/0.1 (+https://github.com/verdicts; polite polling of release feeds)"
MAX_REDIRECTS = 5
PERMANENT_REDIRECTS = {301, 308}
REDIRECTS = {301, 302, 303, 307, 308}
CGNAT = ipaddress.ip_network("100.64.0.0/10")


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


def check_destination(url: str, policy: FetchPolicy) -> None:
    """Refuse non-http(s) schemes and, unless allowed, hosts that resolve to non-public addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError("forbidden_scheme", f"refusing {parts.scheme or 'schemeless'} URL {url!r}")
    if not parts.hostname:
        raise FetchError("bad_url", f"no host in {url!r}")
    if policy.allow_private_networks:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise FetchError("dns", f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if _forbidden(address):
            raise FetchError("forbidden_address", f"{parts.hostname} resolves to non-public address {address}")


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or (isinstance(address, ipaddress.IPv4Address) and address in CGNAT)
    )


def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """Read the raw stream and decompress it in bounded steps, counting decoded bytes against the cap."""
    encodings = [e.strip().lower() for e in response.headers.get("content-encoding", "").split(",") if e.strip()]
    decoders = [zlib.decompressobj(47) for e in encodings if e in ("gzip", "x-gzip", "deflate")]
    if any(e not in ("gzip", "x-gzip", "deflate", "identity") for e in encodings):
        raise FetchError("bad_encoding", f"unsupported content-encoding {encodings}")
    body = bytearray()
    for chunk in response.iter_raw():
        pieces = [chunk]
        for decoder in reversed(decoders):
            out: list[bytes] = []
            for piece in pieces:
                data = piece
                while data:
                    room = max_bytes - len(body) + 1
                    out.append(decoder.decompress(data, room))
                    data = decoder.unconsumed_tail
                    if sum(map(len, out)) + len(body) > max_bytes:
                        raise FetchError("too_large", f"body larger than {max_bytes} bytes after decompression")
            pieces = out
        for piece in pieces:
            body.extend(piece)
        if len(body) > max_bytes:
            raise FetchError("too_large", f"body larger than {max_bytes} bytes after decompression")
    return bytes(body)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def fetch(
    url: str,
    policy: FetchPolicy,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    client: httpx.Client | None = None,
) -> FetchResult:
    """GET ``url`` with validators; follow at most five redirects, checking each hop."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.8, */*;q=0.5", "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    timeout = httpx.Timeout(policy.timeout_seconds, connect=policy.connect_timeout_seconds)
    own_client = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=False)
    try:
        current, all_permanent, seen = url, True, set()
        for _hop in range(MAX_REDIRECTS + 1):
            check_destination(current, policy)
            seen.add(current)
            try:
                with http.stream("GET", current, headers=headers, timeout=timeout) as response:
                    if response.status_code in REDIRECTS:
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError("bad_redirect", f"{response.status_code} without Location", status=response.status_code)
                        target = urljoin(current, location)
                        if target in seen:
                            raise FetchError("redirect_loop", f"redirect loop at {target}", status=response.status_code)
                        all_permanent = all_permanent and response.status_code in PERMANENT_REDIRECTS
                        current = target
                        continue
                    permanent = current if all_permanent and current != url else None
                    return _finish(response, current, permanent, policy)
            except httpx.TimeoutException as exc:
                raise FetchError("timeout", f"timed out fetching {current}: {type(exc).__name__}") from exc
            except httpx.HTTPError as exc:
                raise FetchError("network", f"{type(exc).__name__} fetching {current}: {exc}") from exc
        raise FetchError("too_many_redirects", f"more than {MAX_REDIRECTS} redirects from {url}")
    finally:
        if own_client:
            http.close()


def _finish(response: httpx.Response, url: str, permanent: str | None, policy: FetchPolicy) -> FetchResult:
    status = response.status_code
    if status == 304:
        return FetchResult(url=url, status=304, etag=response.headers.get("etag"),
                           last_modified=response.headers.get("last-modified"), permanent_url=permanent)
    if status in (429, 503):
        raise FetchError("throttled", f"HTTP {status}", status=status,
                         retry_after=_retry_after(response.headers.get("retry-after")))
    if status == 410:
        raise FetchError("gone", "HTTP 410 Gone: the source was removed", status=status)
    if status >= 400:
        raise FetchError("http_status", f"HTTP {status}", status=status)
    body = _read_capped(response, policy.max_bytes)
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
