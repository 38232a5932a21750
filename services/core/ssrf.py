"""The SSRF guard shared by everything that connects to an address someone else chose (feeds, outgoing
webhooks): only http(s), only public addresses unless private networks are allowed, and a connection to
exactly the address that was checked.

What counts as non-public follows Python's ``ipaddress`` flags (loopback, private, link-local, multicast,
unspecified, reserved) plus the shared address space of carrier-grade NAT, 100.64.0.0/10 (RFC 6598);
an IPv4-mapped IPv6 address (``::ffff:0:0/96``) and a 6to4 address (``2002::/16``, RFC 3056, which
carries an IPv4 address in its bits 16-47 and is routed to it by 6to4 relays) are judged as the IPv4
address they carry.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpcore

CGNAT = ipaddress.ip_network("100.64.0.0/10")


class GuardError(Exception):
    """An address the guard will not connect to, or cannot find; ``kind`` is ``forbidden_scheme``,
    ``bad_url``, ``dns`` or ``forbidden_address``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


#: The kinds of ``GuardError`` that mean "never this address" rather than "not found now".
FORBIDDEN = frozenset({"forbidden_address", "forbidden_scheme"})


def split_url(url: str) -> tuple[SplitResult, int | None]:
    """``url``'s parts and its port (None when it names none).

    Raises ``GuardError`` (kind ``bad_url``) for whatever ``urlsplit`` cannot take: a port out of
    0..65535 or not a number (``.port`` raises), brackets that do not close or hold no IPv6 address,
    a host that NFKC normalization turns into URL syntax (``urlsplit`` raises).
    """
    try:
        parts = urlsplit(url)
        return parts, parts.port
    except ValueError as exc:
        raise GuardError("bad_url", f"malformed URL {url!r}: {exc}") from exc


def check_destination(url: str) -> tuple[str, int]:
    """Refuse non-http(s) schemes, malformed URLs and URLs without a host (``GuardError``); addresses are
    checked when connecting. Returns the host and port to connect to (the scheme's default port when the
    URL names none)."""
    parts, port = split_url(url)
    if parts.scheme not in ("http", "https"):
        raise GuardError("forbidden_scheme", f"refusing {parts.scheme or 'schemeless'} URL {url!r}")
    if not parts.hostname:
        raise GuardError("bad_url", f"no host in {url!r}")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (a seam the SSRF tests stub to return forbidden addresses).

    Raises ``GuardError`` (kind ``dns``) when the name does not resolve.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise GuardError("dns", f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for an address no request of ours may reach unless private networks are allowed."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour
        if carried is not None:
            address = carried
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or (isinstance(address, ipaddress.IPv4Address) and address in CGNAT)
    )


def pinned_address(host: str, port: int, allow_private_networks: bool) -> str:
    """The address to connect to: resolved once, checked, and then used as is (no second lookup,
    so a DNS answer that changes between check and connect cannot reach a private address).

    Raises ``GuardError``: ``dns`` when the host has no address, ``forbidden_address`` when any of
    its addresses is non-public and private networks are not allowed.
    """
    addresses = resolve(host, port)
    if not addresses:
        raise GuardError("dns", f"{host} has no address")
    if not allow_private_networks:
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if forbidden(address):
                raise GuardError("forbidden_address", f"{host} resolves to non-public address {address}")
    return addresses[0]


def check_url(url: str, allow_private_networks: bool) -> None:
    """Everything the guard checks before a first connection to ``url``: scheme, host and its addresses.

    Raises ``GuardError`` as ``check_destination`` and ``pinned_address`` do.
    """
    host, port = check_destination(url)
    pinned_address(host, port, allow_private_networks)


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to the address the guard checked.

    TLS still verifies the certificate against the host name: httpcore passes the URL's host as
    ``server_hostname`` when it wraps the stream, whatever address the socket reached.
    """

    def __init__(self, allow_private_networks: bool) -> None:
        self.allow_private_networks = allow_private_networks

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        address = pinned_address(host, port, self.allow_private_networks)
        return super().connect_tcp(address, port, timeout, local_address, socket_options)
