"""The fetcher: validators, caps, redirects and the SSRF guard, against a real local server."""

from __future__ import annotations

import gzip
from http.server import BaseHTTPRequestHandler

import pytest

from services.ingest.fetcher import (
    TRANSPORTS_PER_THREAD,
    FetchError,
    FetchPolicy,
    fetch,
    guarded_transport,
    transport_for,
)
from tests.local_http import LocalServer, Reply

OPEN = FetchPolicy(allow_private_networks=True, timeout_seconds=5)
GUARDED = FetchPolicy(allow_private_networks=False, timeout_seconds=5)
FEED = b"<rss version='2.0'><channel><title>t</title></channel></rss>"


def test_a_second_fetch_with_the_etag_gets_not_modified(http: LocalServer) -> None:
    # Given a feed served with an ETag
    http.routes["/feed"] = Reply(body=FEED, etag='"v1"')
    first = fetch(http.url("/feed"), OPEN)
    # When it is fetched again with that ETag
    second = fetch(http.url("/feed"), OPEN, etag=first.etag)
    # Then the server answers 304 and no body is read; our User-Agent was sent
    assert first.status == 200 and first.body == FEED and first.etag == '"v1"'
    assert second.not_modified
    assert http.requests[-1][1]["if-none-match"] == '"v1"'
    assert http.requests[-1][1]["user-agent"].startswith("verdicts-feed-fetcher/")


def test_polls_after_a_304_reuse_the_kept_alive_connection(http: LocalServer) -> None:
    # Given a feed with an ETag whose server notes the client port of each request, and one transport
    ports: list[int] = []

    def reply(handler: BaseHTTPRequestHandler) -> Reply:
        ports.append(handler.client_address[1])
        return Reply(body=FEED, etag='"v1"')

    http.routes["/feed"] = reply
    transport = guarded_transport(OPEN)
    # When it is fetched, then twice more answering 304
    etag = fetch(http.url("/feed"), OPEN, transport=transport).etag
    results = [fetch(http.url("/feed"), OPEN, etag=etag, transport=transport) for _ in range(2)]
    transport.close()
    # Then every request went over the same connection
    assert all(result.not_modified for result in results)
    assert len(ports) == 3 and len(set(ports)) == 1


def test_polls_of_one_host_reuse_a_connection_without_a_transport_being_handed_in(http: LocalServer) -> None:
    # Given two feeds on one host whose server notes the client port of each request
    ports: list[int] = []

    def reply(handler: BaseHTTPRequestHandler) -> Reply:
        ports.append(handler.client_address[1])
        return Reply(body=FEED)

    http.routes["/a"] = http.routes["/b"] = reply
    # When they are fetched in turn by one thread, with no transport given
    for path in ("/a", "/b", "/a"):
        fetch(http.url(path), OPEN)
    # Then the thread's transport for that host carried all three over one connection
    assert len(ports) == 3 and len(set(ports)) == 1


def test_a_thread_keeps_one_transport_for_each_of_its_most_recent_hosts_only() -> None:
    # Given transports asked for one more host than a thread keeps, the first host first
    first = transport_for(OPEN, "https://host-0.example/feed")
    for n in range(1, TRANSPORTS_PER_THREAD + 1):
        transport_for(OPEN, f"https://host-{n}.example/feed")
    # Then a recent host (whatever the path or the case of its name) still has its transport,
    # and the least recently used host's was let go: it gets a new one
    recent = transport_for(OPEN, f"https://host-{TRANSPORTS_PER_THREAD}.example/other")
    assert recent is transport_for(OPEN, f"https://HOST-{TRANSPORTS_PER_THREAD}.example/x")
    assert transport_for(OPEN, "https://host-0.example/feed") is not first


def test_a_cookie_one_source_sets_is_not_sent_to_the_next(http: LocalServer) -> None:
    # Given a source that sets a cookie and another on the same host, fetched with one transport
    http.routes["/a"] = Reply(body=FEED, headers={"Set-Cookie": "session=abc; Path=/"})
    http.routes["/b"] = Reply(body=FEED)
    transport = guarded_transport(OPEN)
    # When both are fetched in turn
    fetch(http.url("/a"), OPEN, transport=transport)
    fetch(http.url("/b"), OPEN, transport=transport)
    transport.close()
    # Then the second request carried no cookie
    assert "cookie" not in http.requests[-1][1]


def test_a_body_over_the_cap_is_refused_after_decompression(http: LocalServer) -> None:
    # Given 3 KB of gzip that inflates to 2 MB, under a 1 MB cap
    bomb = gzip.compress(b"\0" * 2_000_000)
    http.routes["/bomb"] = Reply(body=bomb, headers={"Content-Encoding": "gzip"})
    # Then the fetch stops with too_large
    with pytest.raises(FetchError) as caught:
        fetch(http.url("/bomb"), FetchPolicy(allow_private_networks=True, max_bytes=1_000_000))
    assert caught.value.kind == "too_large"


def test_gzip_bodies_are_decoded(http: LocalServer) -> None:
    http.routes["/gz"] = Reply(body=gzip.compress(FEED), headers={"Content-Encoding": "gzip"})
    assert fetch(http.url("/gz"), OPEN).body == FEED


def test_a_permanent_redirect_reports_the_new_url(http: LocalServer) -> None:
    http.routes["/old"] = Reply(301, headers={"Location": "/new"})
    http.routes["/new"] = Reply(body=FEED)
    result = fetch(http.url("/old"), OPEN)
    assert result.permanent_url == http.url("/new")


def test_a_temporary_redirect_keeps_the_stored_url(http: LocalServer) -> None:
    http.routes["/old"] = Reply(302, headers={"Location": "/new"})
    http.routes["/new"] = Reply(body=FEED)
    assert fetch(http.url("/old"), OPEN).permanent_url is None


def test_a_redirect_loop_is_an_error(http: LocalServer) -> None:
    http.routes["/a"] = Reply(302, headers={"Location": "/b"})
    http.routes["/b"] = Reply(302, headers={"Location": "/a"})
    with pytest.raises(FetchError) as caught:
        fetch(http.url("/a"), OPEN)
    assert caught.value.kind == "redirect_loop"


@pytest.mark.parametrize(("status", "kind"), [(404, "http_status"), (500, "http_status"), (410, "gone"), (429, "throttled"), (503, "throttled")])
def test_error_statuses_become_typed_errors(http: LocalServer, status: int, kind: str) -> None:
    http.routes["/x"] = Reply(status, b"no", {"Retry-After": "120"})
    with pytest.raises(FetchError) as caught:
        fetch(http.url("/x"), OPEN)
    assert caught.value.kind == kind
    if kind == "throttled":
        assert caught.value.retry_after == 120


def test_the_guard_refuses_loopback_before_connecting(http: LocalServer) -> None:
    # Given the default policy (private networks not allowed)
    http.routes["/feed"] = Reply(body=FEED)
    # When a loopback URL is fetched, Then it is refused and no request arrives
    with pytest.raises(FetchError) as caught:
        fetch(http.url("/feed"), GUARDED)
    assert caught.value.kind == "forbidden_address"
    assert http.requests == []


def test_the_guard_checks_every_redirect_hop(http: LocalServer) -> None:
    # Given a redirect to a non-http scheme
    http.routes["/r"] = Reply(302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(FetchError) as caught:
        fetch(http.url("/r"), OPEN)
    assert caught.value.kind == "forbidden_scheme"


def test_an_empty_body_is_an_error(http: LocalServer) -> None:
    http.routes["/empty"] = Reply(body=b"  \n")
    with pytest.raises(FetchError) as caught:
        fetch(http.url("/empty"), OPEN)
    assert caught.value.kind == "empty"
