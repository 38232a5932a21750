"""The parser: real captured feeds parse; hostile markup and entity declarations do not get through."""

from __future__ import annotations

import pytest

from services.ingest.parser import ParseError, parse_feed
from tests.conftest import SHARED, shared_path

CAPTURED = sorted(p.name for p in (SHARED / "feeds").glob("*.xml")) if (SHARED / "feeds").exists() else ["missing.xml"]


@pytest.mark.parametrize("name", CAPTURED)
def test_every_captured_feed_parses_into_entries(name: str) -> None:
    # Given a real feed captured from a vendor, GitHub or a blog
    body = shared_path("feeds", name).read_bytes()
    # When it is parsed
    feed = parse_feed(body, base_url="https://example.org/")
    # Then it has entries, each with a unique id and something to show, and only http(s) links
    assert feed.entries
    assert len({e.guid for e in feed.entries}) == len(feed.entries)
    assert all(e.title or e.summary or e.link for e in feed.entries)
    assert all(e.link is None or e.link.startswith(("http://", "https://")) for e in feed.entries)


def test_markup_in_titles_and_content_is_neutralised() -> None:
    # Given an item whose title and content carry script, event handlers and a javascript: link
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item>
      <title>&lt;script&gt;alert(1)&lt;/script&gt;Launch &lt;img src=x onerror=alert(2)&gt;</title>
      <link>javascript:alert(3)</link><guid>g1</guid>
      <description>&lt;p onclick="x()"&gt;Hi&lt;a href="javascript:alert(4)"&gt;link&lt;/a&gt;&lt;script&gt;bad()&lt;/script&gt;&lt;/p&gt;</description>
    </item></channel></rss>"""
    entry = parse_feed(body).entries[0]
    # Then the title is plain text, the link is dropped, the summary keeps only safe markup
    assert "<" not in entry.title and "alert(2)" not in entry.title
    assert entry.link is None
    assert "script" not in entry.summary and "onclick" not in entry.summary and "javascript" not in entry.summary
    assert "Hi" in entry.summary


def test_documents_declaring_entities_are_refused() -> None:
    body = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>
    <rss version="2.0"><channel><title>&b;</title></channel></rss>"""
    with pytest.raises(ParseError) as caught:
        parse_feed(body)
    assert caught.value.kind == "entity_declaration"


def test_an_html_page_is_not_a_feed() -> None:
    with pytest.raises(ParseError):
        parse_feed(b"<!doctype html><html><head><title>Home</title></head><body><p>hello</p></body></html>")


def test_repeated_guids_get_distinct_ids() -> None:
    body = b"""<rss version="2.0"><channel><title>x</title>
      <item><title>One</title><guid>same</guid><link>https://e.org/1</link></item>
      <item><title>Two</title><guid>same</guid><link>https://e.org/2</link></item></channel></rss>"""
    entries = parse_feed(body).entries
    assert len({e.guid for e in entries}) == 2


def test_absurd_dates_are_dropped() -> None:
    body = b"""<rss version="2.0"><channel><title>x</title>
      <item><title>Old</title><guid>o</guid><pubDate>Mon, 01 Jan 1900 00:00:00 GMT</pubDate></item>
      <item><title>Future</title><guid>f</guid><pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item></channel></rss>"""
    assert [e.published_at for e in parse_feed(body).entries] == [None, None]


def test_an_empty_item_is_skipped() -> None:
    body = b"""<rss version="2.0"><channel><title>x</title>
      <item><title></title><link></link><description></description></item>
      <item><title>Real</title><link>https://e.org/1</link></item></channel></rss>"""
    assert [e.title for e in parse_feed(body).entries] == ["Real"]


def test_an_overlong_link_is_dropped_and_an_overlong_author_cut_to_fit_what_is_stored() -> None:
    # Given an item whose link is longer than a stored link may be, and whose author is a novel
    long_link = "https://e.org/" + "a" * 3000
    body = f"""<rss version="2.0"><channel><title>x</title><item><title>Long</title><guid>l</guid>
      <link>{long_link}</link><author>{"Ada " * 400}</author></item></channel></rss>""".encode()
    # When it is parsed
    (entry,) = parse_feed(body).entries
    # Then the entry is kept without the link (a cut URL leads nowhere) and with the author cut
    assert entry.title == "Long" and entry.link is None
    assert entry.author is not None and len(entry.author) == 500


def test_plain_titles_and_titles_with_markup_or_entities_read_the_same_as_text() -> None:
    # Given titles with nothing to clean, with entities, and with tags
    body = b"""<rss version="2.0"><channel><title>x</title>
      <item><guid>1</guid><title>  Gemma   4 &gt; Gemma 3  </title></item>
      <item><guid>2</guid><title>Gemma 4 &lt;b&gt;fast&lt;/b&gt;</title></item>
      <item><guid>3</guid><title>R&amp;D &#169; 2026</title></item></channel></rss>"""
    # When parsed, Then each title is plain text with single spaces
    assert [e.title for e in parse_feed(body).entries] == ["Gemma 4 > Gemma 3", "Gemma 4 fast", "R&D \u00a9 2026"]
