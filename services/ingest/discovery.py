"""Finding the feeds behind a web page: its ``<link rel="alternate" type="…">`` elements.

RSS, Atom and JSON Feed (``application/feed+json``, its registered type, https://jsonfeed.org/version/1.1)
come first, in page order; plain ``application/json`` alternates come last, because most are not
feeds but REST API views of the page (WordPress announces ``/wp-json/wp/v2/posts/N`` so): the caller
keeps one only if its body parses as a JSON Feed. WordPress REST API routes are skipped outright
(https://developer.wordpress.org/rest-api/using-the-rest-api/discovery/).
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

from services.core.domain import SourceKind

FEED_TYPES = {
    "application/rss+xml": SourceKind.FEED,
    "application/atom+xml": SourceKind.FEED,
    "application/feed+json": SourceKind.JSON_FEED,
}
#: Announced as alternates, but only sometimes a feed: tried after every FEED_TYPES link.
MAYBE_FEED_TYPES = {"application/json": SourceKind.JSON_FEED}
REST_API_PATH_SEGMENT = "wp-json"
REST_API_QUERY_KEY = "rest_route"


class _AlternateLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        values = {name.lower(): (value or "") for name, value in attrs}
        rels = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rels and (kind in FEED_TYPES or kind in MAYBE_FEED_TYPES) and values.get("href"):
            self.found.append((values["href"].strip(), kind))


def is_rest_api(url: str) -> bool:
    """Whether ``url`` is a WordPress REST API route (``/wp-json/…`` or ``?rest_route=…``), never a feed."""
    parts = urlsplit(url)
    return REST_API_PATH_SEGMENT in parts.path.split("/") or any(
        key == REST_API_QUERY_KEY for key, _ in parse_qsl(parts.query, keep_blank_values=True))


def discover_feeds(html: bytes, page_url: str) -> list[tuple[str, SourceKind]]:
    """The feeds a page announces as (absolute http(s) URL, kind), best first: RSS, Atom and JSON
    Feed links in page order, then ``application/json`` alternates; REST API routes left out."""
    parser = _AlternateLinks()
    parser.feed(html[: 2 * 1024 * 1024].decode("utf-8", errors="replace"))
    links = [(urljoin(page_url, href), kind) for href, kind in parser.found]
    best = [(url, FEED_TYPES[kind]) for url, kind in links if kind in FEED_TYPES]
    maybe = [(url, MAYBE_FEED_TYPES[kind]) for url, kind in links if kind in MAYBE_FEED_TYPES]
    return [(url, kind) for url, kind in dict.fromkeys(best + maybe)
            if url.startswith(("http://", "https://")) and not is_rest_api(url)]
