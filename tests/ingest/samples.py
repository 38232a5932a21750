"""Feeds and sources the ingest tests share: a GitHub releases feed, and sources added for a test."""

from __future__ import annotations

from services.core.domain import SourceKind
from services.core.runtime import Runtime
from services.ingest.sources import add_source
from tests.local_http import LocalServer, Reply

RELEASES = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>Release notes from widget</title><updated>2026-11-26T00:00:00Z</updated>
<entry><id>tag:github.com,2008:Repository/1/v2.0.0</id><updated>2026-11-26T00:00:00Z</updated>
<link rel="alternate" href="https://github.com/acme/widget/releases/tag/v2.0.0"/><title>v2.0.0</title>
<content type="html">&lt;p&gt;Big release&lt;/p&gt;</content></entry>
<entry><id>tag:github.com,2008:Repository/1/v1.9.0</id><updated>2026-11-20T00:00:00Z</updated>
<link rel="alternate" href="https://github.com/acme/widget/releases/tag/v1.9.0"/><title>v1.9.0</title></entry>
</feed>"""


def releases_source(rt: Runtime, url: str) -> int:
    """A GitHub releases source at ``url``; returns its id."""
    with rt.sessions() as session, session.begin():
        return add_source(session, url, SourceKind.GITHUB_RELEASES).id


def releases_and_a_post(rt: Runtime, http: LocalServer, post_title: str) -> list[int]:
    """Two sources for one batch: the RELEASES feed, and a feed of one post titled ``post_title``."""
    http.routes["/a.atom"] = Reply(body=RELEASES)
    http.routes["/post.xml"] = Reply(body=b"<rss version='2.0'><channel><title>n</title><item><title>"
                                     + post_title.encode() + b"</title><guid>p1</guid></item></channel></rss>")
    return [releases_source(rt, http.url("/a.atom")), releases_source(rt, http.url("/post.xml"))]


def post_source(rt: Runtime, http: LocalServer, title: str) -> int:
    """A feed source (``/news.rss``) of one post titled ``title``, linking to ai.example.org; returns its id."""
    http.routes["/news.rss"] = Reply(body=b"<rss version='2.0'><channel><title>Acme AI</title><item><title>"
                                     + title.encode() + b"</title><link>https://ai.example.org/post</link>"
                                     b"<guid>post</guid></item></channel></rss>")
    with rt.sessions() as session, session.begin():
        return add_source(session, http.url("/news.rss"), SourceKind.FEED).id
