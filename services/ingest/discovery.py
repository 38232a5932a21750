"""Finding the feed behind a web page: its ``<link rel="alternate" type="…rss/atom/feed+json">``."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

from services.core.domain import SourceKind

FEED_TYPES = {
    "application/rss+xml": SourceKind.FEED,
    "application/atom+xml": SourceKind.FEED,
    "application/feed+json": SourceKind.JSON_FEED,
    "application/json": SourceKind.JSON_FEED,
}


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
        if "alternate" in rels and kind in FEED_TYPES and values.get("href"):
            self.found.append((values["href"].strip(), kind))


def looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def discover_feeds(html: bytes, page_url: str) -> list[tuple[str, SourceKind]]:
    """Feeds a page announces, absolute, in page order (RSS/Atom and JSON Feed)."""
    parser = _AlternateLinks()
    parser.feed(html[: 2 * 1024 * 1024].decode("utf-8", errors="replace"))
    feeds = [(urljoin(page_url, href), FEED_TYPES[kind]) for href, kind in parser.found]
    return [(url, kind) for url, kind in dict.fromkeys(feeds) if url.startswith(("http://", "https://"))]
