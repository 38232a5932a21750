"""Hostile sources through the whole path: each failure is recorded on its source, the worker goes on."""

from __future__ import annotations

import datetime as dt
import gzip
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from services.core import ssrf
from services.core.db.models import Entry, Source, Tool
from services.core.domain import SourceKind, SourceState
from services.core.runtime import Runtime
from services.ingest import schedule
from services.ingest.fetcher import FetchError, FetchPolicy, fetch
from services.ingest.refresh import refresh_source, refresh_sources
from services.ingest.sources import add_source, source_rows
from tests.local_http import LocalServer, Reply

RSS = b"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Vendor news</title>
<link>https://vendor.example.org/</link>%s</channel></rss>"""


def _item(guid: str | None, title: str, link: str = "https://vendor.example.org/p", extra: str = "") -> bytes:
    guid_tag = f"<guid>{guid}</guid>" if guid is not None else ""
    return f"<item><title>{title}</title><link>{link}</link>{guid_tag}{extra}</item>".encode()


def _poll(rt: Runtime, url: str, **overrides: object) -> tuple[int, dict[str, object]]:
    with rt.sessions() as session, session.begin():
        source_id = add_source(session, url, SourceKind.FEED).id
    settings = rt.settings.model_copy(update=overrides) if overrides else rt.settings
    refresh_source(rt.sessions, source_id, settings)
    with rt.sessions() as session:
        return source_id, next(r for r in source_rows(session) if r["id"] == source_id)


@pytest.mark.parametrize(
    ("body", "headers", "kind"),
    [
        (b"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title></chan<<>", {}, "malformed"),
        (b"<!doctype html><html><body><p>We moved</p></body></html>", {"Content-Type": "text/html"}, None),
        (b"", {}, "empty"),
        (b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><rss version="2.0">
         <channel><title>&b;</title></channel></rss>""", {}, "entity_declaration"),
        (b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss version="2.0">
         <channel><title>&x;</title></channel></rss>""", {}, "entity_declaration"),
        ("""<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "aa">]><rss version="2.0"><channel>
         <title>&a;</title></channel></rss>""".encode("utf-16"), {}, "entity_declaration"),
    ],
    ids=["malformed-xml", "html-page", "empty-body", "entity-expansion", "external-entity", "utf16-entities"],
)
def test_unusable_bodies_are_recorded_as_errors_and_store_nothing(
    rt: Runtime, http: LocalServer, body: bytes, headers: dict[str, str], kind: str | None
) -> None:
    # Given a source answering with a body that is no usable feed
    http.routes["/f"] = Reply(body=body, headers=headers)
    # When it is polled
    _, row = _poll(rt, http.url("/f"))
    # Then the error is on the source (kind, message, count), and nothing was stored
    assert row["consecutive_failures"] == 1 and row["last_error"]
    if kind:
        assert row["last_error_kind"] == kind
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 0


@pytest.mark.parametrize(("status", "kind", "state"), [
    (404, "http_status", "active"), (500, "http_status", "active"), (429, "throttled", "active"),
    (503, "throttled", "active"), (410, "gone", "disabled"),
])
def test_error_statuses_are_recorded_with_the_status(rt: Runtime, http: LocalServer, status: int, kind: str,
                                                     state: str) -> None:
    http.routes["/f"] = Reply(status, b"no", {"Retry-After": "7200"})
    _, row = _poll(rt, http.url("/f"))
    assert (row["last_error_kind"], row["last_error_status"], row["state"]) == (kind, status, state)


def test_retry_after_on_429_pushes_the_next_poll_past_it(rt: Runtime, http: LocalServer) -> None:
    # Given a server asking us to come back in two hours
    http.routes["/f"] = Reply(429, b"slow down", {"Retry-After": "7200"})
    source_id, _ = _poll(rt, http.url("/f"))
    # Then the next poll is not before that (the plain backoff would be about five minutes)
    with rt.sessions() as session:
        source = session.get(Source, source_id)
        assert (source.next_poll_at - source.last_polled_at).total_seconds() >= 7200


@pytest.mark.parametrize("retry_after", ["1e20", "Fri, 31 Dec 9999 23:59:59 GMT"], ids=["seconds", "date"])
def test_a_retry_after_too_far_ahead_waits_a_day_and_the_batch_goes_on(rt: Runtime, http: LocalServer,
                                                                        retry_after: str) -> None:
    # Given a server asking us to come back in an age (more than any date can hold, or in the year
    # 9999), in a batch with a working feed
    http.routes["/far"] = Reply(429, b"slow down", {"Retry-After": retry_after})
    http.routes["/ok"] = Reply(body=RSS % _item("a", "Hello"))
    with rt.sessions() as session, session.begin():
        ids = [add_source(session, http.url(path), SourceKind.FEED).id for path in ("/far", "/ok")]
    # When the batch is polled
    reports = refresh_sources(rt.sessions, ids, rt.settings)
    # Then the throttled source is recorded, released, and asked again after the longest polling
    # interval; the other feed is stored
    assert [r.status for r in reports] == ["failed", "ok"]
    with rt.sessions() as session:
        far = session.get(Source, ids[0])
        assert (far.last_error_kind, far.last_error_status, far.claimed_until) == ("throttled", 429, None)
        assert far.next_poll_at - far.last_polled_at == dt.timedelta(seconds=schedule.MAX_INTERVAL)
        assert session.scalar(select(func.count()).select_from(Entry).where(Entry.source_id == ids[1])) == 1


def test_a_stacked_gzip_bomb_is_cut_off_at_the_cap(rt: Runtime, http: LocalServer) -> None:
    # Given 'Content-Encoding: gzip, gzip' whose two layers inflate to 64 MB (a few KB on the wire)
    bomb = gzip.compress(gzip.compress(b"\0" * 64 * 1024 * 1024))
    assert len(bomb) < 200_000
    http.routes["/bomb"] = Reply(body=bomb, headers={"Content-Encoding": "gzip, gzip"})
    # When polled under a 1 MB cap
    _, row = _poll(rt, http.url("/bomb"), fetch_max_bytes=1024 * 1024)
    # Then it stops with too_large
    assert row["last_error_kind"] == "too_large"


def test_an_oversized_plain_body_is_refused(rt: Runtime, http: LocalServer) -> None:
    http.routes["/big"] = Reply(body=RSS % (b"<item><title>x</title></item>" * 100_000))
    _, row = _poll(rt, http.url("/big"), fetch_max_bytes=1024 * 1024)
    assert row["last_error_kind"] == "too_large"


@pytest.fixture
def silent_server() -> Iterator[tuple[str, list[socket.socket]]]:
    """A TCP server that accepts and then never answers (or trickles one byte a second)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/feed", held
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_a_server_that_never_answers_times_out(silent_server: tuple[str, list[socket.socket]]) -> None:
    url, _ = silent_server
    with pytest.raises(FetchError) as caught:
        fetch(url, FetchPolicy(allow_private_networks=True, timeout_seconds=1, connect_timeout_seconds=1))
    assert caught.value.kind == "timeout"


def test_a_slow_trickle_stops_at_the_total_timeout(http: LocalServer) -> None:
    # Given a server that sends its body one byte every 0.3 s (each read is quick, the whole is not)
    def trickle(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _ in range(1000):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.3)

    http.routes["/slow"] = trickle
    with pytest.raises(FetchError) as caught:
        fetch(http.url("/slow"), FetchPolicy(allow_private_networks=True, timeout_seconds=1.5))
    assert caught.value.kind == "timeout"


def test_more_than_five_redirects_are_refused(http: LocalServer) -> None:
    for hop in range(7):
        http.routes[f"/r{hop}"] = Reply(302, headers={"Location": f"/r{hop + 1}"})
    with pytest.raises(FetchError) as caught:
        fetch(http.url("/r0"), FetchPolicy(allow_private_networks=True))
    assert caught.value.kind == "too_many_redirects"


def test_a_permanent_redirect_updates_the_stored_url(rt: Runtime, http: LocalServer) -> None:
    http.routes["/old"] = Reply(308, headers={"Location": "/new"})
    http.routes["/new"] = Reply(body=RSS % _item("a", "Hello"))
    _, row = _poll(rt, http.url("/old"))
    assert row["url"] == http.url("/new") and row["last_error"] is None


def test_scripts_and_event_handlers_never_reach_storage(rt: Runtime, http: LocalServer) -> None:
    # Given items whose title and content carry scripts, event handlers, javascript: links and NULs
    items = _item("x1", "&lt;script&gt;alert(1)&lt;/script&gt;Introducing Evil&lt;img src=x onerror=alert(2)&gt;",
                  link="javascript:alert(3)",
                  extra="<description>&lt;p onmouseover=\"x()\"&gt;ok&lt;/p&gt;&lt;iframe src=//e&gt;&lt;/iframe&gt;"
                        "\x01</description>")
    http.routes["/f"] = Reply(body=RSS % items)
    _poll(rt, http.url("/f"))
    with rt.sessions() as session:
        entry = session.scalars(select(Entry)).one()
        stored = entry.summary + (entry.link or "")
    # Then nothing executable was stored in the HTML and the link
    for bad in ("<script", "onerror", "onmouseover", "javascript:", "<iframe", "\x01"):
        assert bad not in stored
    assert "ok" in entry.summary and entry.link is None
    # And the title, plain text by feedparser's type (RSS declares none), is stored as written, as
    # text: every page and mail escapes it on output (tests/web/test_injection.py)
    assert entry.title == "<script>alert(1)</script>Introducing Evil<img src=x onerror=alert(2)>"


def test_duplicate_and_missing_guids_store_each_item_once(rt: Runtime, http: LocalServer) -> None:
    # Given two items sharing a guid and two without any guid (one also without link)
    items = (_item("same", "One", "https://v.example.org/1") + _item("same", "Two", "https://v.example.org/2")
             + _item(None, "Three", "https://v.example.org/3") + b"<item><title>Four</title></item>")
    http.routes["/f"] = Reply(body=RSS % items)
    source_id, _ = _poll(rt, http.url("/f"))
    # When polled a second time
    with rt.sessions() as session, session.begin():
        session.get(Source, source_id).next_poll_at = session.get(Source, source_id).created_at
    refresh_source(rt.sessions, source_id, rt.settings)
    # Then four entries are stored, once each
    with rt.sessions() as session:
        assert sorted(session.scalars(select(Entry.title))) == ["Four", "One", "Three", "Two"]


def test_absurd_dates_are_stored_as_unknown(rt: Runtime, http: LocalServer) -> None:
    items = (_item("a", "Old", extra="<pubDate>Mon, 01 Jan 1900 00:00:00 GMT</pubDate>")
             + _item("b", "Future", extra="<pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate>")
             + _item("c", "Garbage", extra="<pubDate>yesterday-ish</pubDate>"))
    http.routes["/f"] = Reply(body=RSS % items)
    _poll(rt, http.url("/f"))
    with rt.sessions() as session:
        assert set(session.scalars(select(Entry.published_at))) == {None}


def test_wrong_declared_encoding_still_yields_text(rt: Runtime, http: LocalServer) -> None:
    # Given a feed whose bytes are windows-1252 but whose header claims UTF-8, and one with no declaration at all
    item = "<item><title>Café launches Crème 2</title><guid>e</guid></item>".encode("cp1252")
    body = RSS.replace(b'encoding="UTF-8"', b"") % item
    http.routes["/f"] = Reply(body=body, headers={"Content-Type": "application/rss+xml; charset=utf-8"})
    _, row = _poll(rt, http.url("/f"))
    # Then the entry is kept (bozo but usable), with the warning recorded
    with rt.sessions() as session:
        title = session.scalars(select(Entry.title)).one()
    assert "launches" in title and row["last_error"] is None
    assert row["parse_warning"]


def test_a_bad_source_does_not_stop_the_batch(rt: Runtime, http: LocalServer) -> None:
    # Given a broken source and a good one
    http.routes["/bad"] = Reply(body=b"\x00\xff garbage")
    http.routes["/good"] = Reply(body=RSS % _item("g", "Introducing Widget 3"))
    with rt.sessions() as session, session.begin():
        ids = [add_source(session, http.url(p), SourceKind.FEED).id for p in ("/bad", "/good")]
    # When both are refreshed in turn
    reports = [refresh_source(rt.sessions, i, rt.settings) for i in ids]
    # Then the first failed, the second still produced its candidate
    assert [r.status for r in reports] == ["failed", "ok"]
    with rt.sessions() as session:
        assert session.scalars(select(Tool.name)).all() == ["Widget 3"]
        assert session.get(Source, ids[0]).state == SourceState.ACTIVE.value


# --- the SSRF guard: nothing leaves this machine -------------------------------------------------

@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "172.16.5.4", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "::ffff:10.0.0.1"])
def test_the_guard_refuses_non_public_addresses_before_connecting(monkeypatch: pytest.MonkeyPatch,
                                                                   address: str) -> None:
    # Given a host name the (stubbed) resolver maps to a forbidden address, and a socket layer that fails the test if used
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: [address])

    def no_connect(*args: object, **kwargs: object) -> None:
        raise AssertionError("the guard let a connection through")

    monkeypatch.setattr(socket, "create_connection", no_connect)
    # When it is fetched under the default policy, Then it is refused as forbidden_address
    with pytest.raises(FetchError) as caught:
        fetch("http://feeds.example.org/rss", FetchPolicy())
    assert caught.value.kind == "forbidden_address"


def test_the_guard_connects_only_to_the_address_it_checked(monkeypatch: pytest.MonkeyPatch, http: LocalServer) -> None:
    # Given a resolver that answers a public address first and loopback on a second lookup (DNS rebinding)
    answers = iter([["127.0.0.1"], ["127.0.0.1"]])
    lookups: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return next(answers)

    monkeypatch.setattr(ssrf, "resolve", rebinding)
    http.routes["/feed"] = Reply(body=RSS % b"")
    # When fetched with private networks allowed, Then the one lookup's address is the one connected
    port = http.httpd.server_address[1]
    result = fetch(f"http://rebind.example.org:{port}/feed", FetchPolicy(allow_private_networks=True))
    assert result.status == 200 and lookups == ["rebind.example.org"]
    assert http.requests[0][1]["host"] == f"rebind.example.org:{port}"


@pytest.mark.parametrize("target", ["http://127.0.0.1:9/x", "http://169.254.169.254/latest/meta-data/",
                                    "http://10.0.0.1/", "file:///etc/passwd", "gopher://127.0.0.1/"])
def test_redirects_to_forbidden_places_are_refused(monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    # Given a public-looking host (stubbed resolver) whose feed redirects somewhere forbidden
    import httpx

    def resolve(host: str, port: int) -> list[str]:
        return ["93.184.215.14"] if host == "feeds.example.org" else [host]

    monkeypatch.setattr(ssrf, "resolve", resolve)
    replies = iter([httpx.Response(302, headers={"Location": target})])

    class FirstHopOnly(ssrf.GuardedBackend):
        def connect_tcp(self, host: str, port: int, *args: object, **kwargs: object):
            ssrf.pinned_address(host, port, self.allow_private_networks)
            raise AssertionError(f"no packet may leave for {host}")

    def handler(request: httpx.Request) -> httpx.Response:
        # the first hop stands in for the public server; any later hop must go through the guard
        if request.url.host == "feeds.example.org":
            return next(replies)
        FirstHopOnly(False).connect_tcp(request.url.host, request.url.port or 80)
        raise AssertionError("unreachable")

    with pytest.raises(FetchError) as caught:
        fetch("http://feeds.example.org/rss", FetchPolicy(), transport=httpx.MockTransport(handler))
    assert caught.value.kind in ("forbidden_address", "forbidden_scheme")
