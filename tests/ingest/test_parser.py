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
    # Then the title, which feedparser types text/plain (RSS declares no type, and its guess takes
    # text holding script for text), is kept as written: it is text, and pages escape it on output
    assert entry.title == "<script>alert(1)</script>Launch <img src=x onerror=alert(2)>"
    # And the link is dropped, the summary keeps only safe markup
    assert entry.link is None
    assert "script" not in entry.summary and "onclick" not in entry.summary and "javascript" not in entry.summary
    assert "Hi" in entry.summary


def test_markup_in_html_titles_is_neutralised() -> None:
    # Given titles declared HTML (Atom type="html") and XHTML carrying script and an event handler
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">&lt;b&gt;Feed&lt;/b&gt;</title>
      <entry><id>1</id><title type="html">&lt;script&gt;alert(1)&lt;/script&gt;Launch &lt;img src=x onerror=alert(2)&gt;</title></entry>
      <entry><id>2</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Go <img src="x" onerror="alert(2)"/>now</div></title></entry>
    </feed>"""
    # When parsed
    feed = parse_feed(body)
    # Then each title is the text of that markup, with nothing of the script or the handler left
    assert feed.title == "Feed"
    assert [e.title for e in feed.entries] == ["Launch", "Go now"]


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


PLAIN_TITLES = ["Fix <Select> crash in the picker", "hide <think> blocks", "a<b", "R&D: x < y && y > z"]


def _rss(titles: list[str], escape: str) -> bytes:
    def written(title: str) -> str:
        return f"<![CDATA[{title}]]>" if escape == "cdata" else title.replace("&", "&amp;").replace("<", "&lt;")

    items = "".join(f"<item><guid>{n}</guid><title>{written(t)}</title><author>ops@acme.example.org (R&amp;D &lt;team&gt;)"
                    f"</author><category>c&lt;d &amp; e</category></item>" for n, t in enumerate(titles))
    return f"<rss version='2.0'><channel><title>Acme &lt;news&gt; &amp; notes</title>{items}</channel></rss>".encode()


def _atom(titles: list[str]) -> bytes:
    entries = "".join(f"<entry><id>{n}</id><title type='text'>{t.replace('&', '&amp;').replace('<', '&lt;')}</title>"
                      f"<author><name>R&amp;D &lt;team&gt;</name></author><category term='c&lt;d &amp; e'/></entry>"
                      for n, t in enumerate(titles))
    return f"<feed xmlns='http://www.w3.org/2005/Atom'><title>Acme &lt;news&gt; &amp; notes</title>{entries}</feed>".encode()


@pytest.mark.parametrize(("body", "author"), [
    (_rss(PLAIN_TITLES, "entities"), "ops@acme.example.org (R&D <team>)"),
    (_rss(PLAIN_TITLES, "cdata"), "ops@acme.example.org (R&D <team>)"),
    (_atom(PLAIN_TITLES), "R&D <team>"),
], ids=["rss-entities", "rss-cdata", "atom-text"])
def test_plain_text_keeps_its_angle_brackets_and_ampersands_as_written(body: bytes, author: str) -> None:
    # Given titles, authors, tags and a feed title that are plain text holding < and &
    # When parsed
    feed = parse_feed(body)
    # Then each is kept as written, nothing cut and nothing decoded twice
    assert [e.title for e in feed.entries] == PLAIN_TITLES
    assert feed.title == "Acme <news> & notes"
    assert {(e.author, e.tags) for e in feed.entries} == {(author, ("c<d & e",))}


def test_a_document_only_the_loose_parser_reads_gives_the_same_text() -> None:
    # Given the same feeds made not well-formed XML by an HTML entity (feedparser then parses loosely)
    for body in (_rss(PLAIN_TITLES, "entities"), _atom(PLAIN_TITLES)):
        strict = parse_feed(body)
        loose = parse_feed(body.replace(b"<title>Acme", b"<title>&nbsp;Acme", 1))
        # When both are parsed, Then the loose one is flagged, and its text reads the same
        assert loose.warning and not strict.warning
        assert [(e.title, e.author, e.tags) for e in loose.entries] == [(e.title, e.author, e.tags) for e in strict.entries]
        assert loose.title == strict.title


@pytest.mark.parametrize(("written", "text"), [
    ("<title type='html'>Fix &amp;lt;Select&amp;gt; &lt;b&gt;crash&lt;/b&gt; &amp;amp;amp; more</title>",
     "Fix <Select> crash &amp; more"),
    ("<title type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>Fix &lt;Select&gt; <b>crash</b></div></title>",
     "Fix <Select> crash"),
], ids=["html", "xhtml"])
def test_html_text_loses_its_tags_and_has_its_entities_decoded_once(written: str, text: str) -> None:
    # Given an Atom title declared HTML or XHTML
    body = f"<feed xmlns='http://www.w3.org/2005/Atom'><title>F</title><entry><id>1</id>{written}</entry></feed>"
    # When parsed, Then it reads as the text a browser would show, an escaped entity left escaped once
    assert parse_feed(body.encode()).entries[0].title == text


def test_an_rss_title_written_as_escaped_html_reads_as_its_text() -> None:
    # Given an RSS title escaped twice, as HTML (feedparser's guess for RSS: text/html)
    body = b"""<rss version="2.0"><channel><title>x</title>
      <item><guid>1</guid><title>Fix &amp;lt;Select&amp;gt; crash &amp;amp; more</title></item></channel></rss>"""
    # When parsed, Then the HTML is decoded once, to the text it shows
    assert parse_feed(body).entries[0].title == "Fix <Select> crash & more"


def test_a_plain_text_summary_is_stored_escaped_so_it_shows_as_written() -> None:
    # Given an Atom summary declared plain text, holding < and &
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><entry><id>1</id><title>t</title>
      <summary type="text">Strip &lt;think&gt; blocks when a&lt;b &amp; c</summary></entry></feed>"""
    # When parsed, Then the stored summary (HTML) escapes them, and nothing was cut
    assert parse_feed(body).entries[0].summary == "Strip &lt;think&gt; blocks when a&lt;b &amp; c"
