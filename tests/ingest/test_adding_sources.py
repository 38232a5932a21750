"""Adding a source: what a page announces is fetched and parsed before it is watched; REST API links,
unparseable candidates and addresses the SSRF guard forbids are refused with a clear reason."""

from __future__ import annotations

import json

import pytest

from services.core.domain import SourceKind
from services.ingest.discovery import discover_feeds
from services.ingest.fetcher import FetchPolicy
from services.ingest.sources import SourceError, readable_source
from tests.local_http import LocalServer, Reply

OPEN = FetchPolicy(allow_private_networks=True, timeout_seconds=5)
RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Acme news</title>
<item><title>Introducing Widget 3</title><link>https://acme.example.org/widget-3</link><guid>w3</guid></item>
</channel></rss>"""
ATOM = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>Acme</title>
<entry><id>w3</id><title>Widget 3</title><link href="https://acme.example.org/widget-3"/></entry></feed>"""
JSON_FEED = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Acme",
                        "items": [{"id": "w3", "title": "Widget 3", "url": "https://acme.example.org/w3"}]}).encode()
REST_ANSWER = json.dumps({"id": 7, "title": {"rendered": "About"}, "link": "https://acme.example.org/about"}).encode()


def _page(*links: str) -> bytes:
    return ("<!doctype html><html><head>" + "".join(links) + "</head><body>Acme</body></html>").encode()


def _alternate(kind: str, href: str) -> str:
    return f'<link rel="alternate" type="{kind}" href="{href}">'


def test_a_wordpress_page_gives_its_rss_feed_and_its_rest_api_links_are_never_fetched(http: LocalServer) -> None:
    # Given a WordPress page announcing its REST API (both ways WordPress does) before its RSS feed
    http.routes["/about/"] = Reply(body=_page('<link rel="https://api.w.org/" href="/wp-json/">',
                                              _alternate("application/json", "/wp-json/wp/v2/pages/7"),
                                              _alternate("application/json", "/?rest_route=/wp/v2/pages/7"),
                                              _alternate("application/rss+xml", "/feed/")))
    http.routes["/wp-json/wp/v2/pages/7"] = Reply(body=REST_ANSWER, headers={"Content-Type": "application/json"})
    http.routes["/feed/"] = Reply(body=RSS)
    # When the page is added
    found = readable_source(http.url("/about/"), SourceKind.FEED, OPEN)
    # Then its RSS feed is the source, and no REST API route was even requested
    assert found == (http.url("/feed/"), SourceKind.FEED)
    assert not any("wp-json" in path or "rest_route" in path for path, _ in http.requests)


def test_feed_types_come_before_plain_json_alternates_whatever_the_page_order() -> None:
    # Given a page listing a plain JSON alternate first, then a JSON Feed, an Atom and an RSS feed
    html = _page(_alternate("application/json", "/data.json"), _alternate("application/feed+json", "/feed.json"),
                 _alternate("application/atom+xml", "/atom.xml"), _alternate("application/rss+xml", "/rss.xml"))
    # When its feeds are discovered, Then the registered feed types come first in page order, JSON last
    assert discover_feeds(html, "https://acme.example.org/") == [
        ("https://acme.example.org/feed.json", SourceKind.JSON_FEED), ("https://acme.example.org/atom.xml", SourceKind.FEED),
        ("https://acme.example.org/rss.xml", SourceKind.FEED), ("https://acme.example.org/data.json", SourceKind.JSON_FEED)]


@pytest.mark.parametrize(("body", "accepted"), [(JSON_FEED, True), (REST_ANSWER, False)], ids=["json-feed", "other-json"])
def test_a_json_alternate_is_kept_only_when_its_body_parses_as_a_json_feed(http: LocalServer, body: bytes,
                                                                             accepted: bool) -> None:
    # Given a page whose only alternate is typed application/json
    http.routes["/"] = Reply(body=_page(_alternate("application/json", "/data.json")))
    http.routes["/data.json"] = Reply(body=body, headers={"Content-Type": "application/json"})
    # When it is added, Then a JSON Feed there is watched as one, and other JSON is refused, saying why
    if accepted:
        assert readable_source(http.url("/"), SourceKind.FEED, OPEN) == (http.url("/data.json"), SourceKind.JSON_FEED)
    else:
        with pytest.raises(SourceError, match="none reads as one.*jsonfeed.org"):
            readable_source(http.url("/"), SourceKind.FEED, OPEN)


def test_an_announced_feed_that_fails_is_passed_over_for_the_next_that_parses(http: LocalServer) -> None:
    # Given a page announcing a missing feed, then one that is an HTML page, then a working Atom feed
    http.routes["/"] = Reply(body=_page(_alternate("application/rss+xml", "/gone.xml"),
                                        _alternate("application/rss+xml", "/moved.xml"),
                                        _alternate("application/atom+xml", "/atom.xml")))
    http.routes["/moved.xml"] = Reply(body=_page())
    http.routes["/atom.xml"] = Reply(body=ATOM)
    # When it is added, Then the Atom feed is the source
    assert readable_source(http.url("/"), SourceKind.FEED, OPEN) == (http.url("/atom.xml"), SourceKind.FEED)


def test_a_page_none_of_whose_feeds_parses_is_refused_naming_each(http: LocalServer) -> None:
    # Given a page announcing two feeds: one missing, one that is no feed
    http.routes["/"] = Reply(body=_page(_alternate("application/rss+xml", "/gone.xml"),
                                        _alternate("application/atom+xml", "/moved.xml")))
    http.routes["/moved.xml"] = Reply(body=b"we moved")
    # When it is added, Then it is refused, and the reason names both and what went wrong with each
    with pytest.raises(SourceError) as caught:
        readable_source(http.url("/"), SourceKind.FEED, OPEN)
    reason = str(caught.value)
    assert "announces 2 feed(s), and none reads as one" in reason
    assert f"could not read {http.url('/gone.xml')} (http_status)" in reason and http.url("/moved.xml") in reason


@pytest.mark.parametrize(("reply", "kind", "reason"), [
    (Reply(body=b"<rss version='2.0'><channel><title>x</title></chan<<>"), SourceKind.FEED, "is none itself"),
    (Reply(body=b"plain words, no markup"), SourceKind.FEED, "announces no feed"),
    (Reply(body=REST_ANSWER), SourceKind.JSON_FEED, "is no json-feed source"),
    (Reply(503, b"busy"), SourceKind.FEED, "could not read"),
    (Reply(410, b""), SourceKind.JSON_FEED, "could not read"),
], ids=["malformed-xml", "plain-text", "json-that-is-no-json-feed", "unavailable", "gone"])
def test_a_url_that_does_not_read_as_a_source_is_refused_not_added_as_given(http: LocalServer, reply: Reply,
                                                                            kind: SourceKind, reason: str) -> None:
    # Given a URL answering with something no source of the kind can be made of
    http.routes["/f"] = reply
    # When it is added, Then it is refused with the reason
    with pytest.raises(SourceError, match=reason):
        readable_source(http.url("/f"), kind, OPEN)


def test_an_address_the_ssrf_guard_forbids_is_refused(http: LocalServer) -> None:
    # Given a working feed on this machine, and the default policy (no private or local networks)
    http.routes["/feed.xml"] = Reply(body=RSS)
    # When it is added, Then it is refused as a forbidden address, and nothing was requested
    with pytest.raises(SourceError, match=r"refused .*non-public address 127\.0\.0\.1; only public addresses"):
        readable_source(http.url("/feed.xml"), SourceKind.FEED, FetchPolicy())
    assert http.requests == []
