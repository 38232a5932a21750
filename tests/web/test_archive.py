"""The public archive: sent digests as pages without personal links, and an Atom feed that parses."""

from __future__ import annotations

from xml.etree import ElementTree

import feedparser
from fastapi.testclient import TestClient

from services.core.runtime import Runtime
from services.delivery.send import start_send
from services.digest import compose
from tests import factories

ATOM_NS = {"atom": "http://www.w3.org/2005/Atom"}


def _sent_digest(rt: Runtime, week: str, a: str, b: str) -> None:
    """``a`` vs ``b`` published, then the digest of ``week`` compiled, approved and sent (to nobody: no subscriber
    yet, so it is sent at once)."""
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, a, b)
        assert factories.sent_digest(session, rt.settings, week).state == "sent"


def test_a_sent_digest_is_a_public_page_without_personal_links(rt: Runtime, client: TestClient) -> None:
    # Given a sent digest
    _sent_digest(rt, "2026-W48", "Alpha", "Beta")
    # When anyone opens its archive page
    page = client.get("/archive/2026-W48")
    # Then it is the mail's content, with public links only
    assert page.status_code == 200
    assert "Alpha vs Beta" in page.text and "Panel ship" in page.text
    assert "[[" not in page.text
    for personal in ("/unsubscribe/", "/prefs/", "/vote/"):
        assert personal not in page.text
    assert 'href="https://verdicts.example.org/c/alpha-vs-beta"' in page.text
    assert 'href="https://verdicts.example.org/subscribe"' in page.text


def test_drafts_and_approved_digests_stay_out_of_the_archive(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
        compose.compile_week(session, rt.settings, "2026-W48")
    assert client.get("/archive/2026-W48").status_code == 404
    assert "Alpha vs Beta" not in client.get("/archive").text


def test_the_archive_lists_sent_digests_newest_first(rt: Runtime, client: TestClient) -> None:
    _sent_digest(rt, "2026-W47", "Alpha", "Beta")
    _sent_digest(rt, "2026-W48", "Gamma", "Delta")
    page = client.get("/archive")
    assert page.status_code == 200
    assert page.text.index("Gamma vs Delta") < page.text.index("Alpha vs Beta")
    assert 'href="/archive/2026-W47"' in page.text
    assert 'type="application/atom+xml"' in page.text


def test_the_atom_feed_parses_and_has_an_entry_per_sent_digest(rt: Runtime, client: TestClient) -> None:
    # Given two sent digests
    _sent_digest(rt, "2026-W47", "Alpha", "Beta")
    _sent_digest(rt, "2026-W48", "Gamma & Co", "Delta")
    # When a feed reader fetches the feed
    response = client.get("/archive.atom")
    # Then it is well-formed Atom 1.0 with one entry per digest, linking to its page
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Verdicts: the weekly digest"
    assert [e.link for e in feed.entries] == ["https://verdicts.example.org/archive/2026-W48",
                                              "https://verdicts.example.org/archive/2026-W47"]
    assert feed.entries[0].title == "Gamma & Co vs Delta — and more"
    assert "Gamma &amp; Co vs Delta" in feed.entries[0].content[0].value
    assert all(e.get("updated_parsed") for e in feed.entries)


def test_the_feeds_html_content_is_escaped_exactly_once_as_text(rt: Runtime, client: TestClient) -> None:
    # Given a sent digest whose comparison title needs escaping in HTML
    _sent_digest(rt, "2026-W48", "Gamma & Co", "<Delta>")
    # When the feed is parsed by an XML parser
    root = ElementTree.fromstring(client.get("/archive.atom").content)
    [content] = root.findall("atom:entry/atom:content", ATOM_NS)
    # Then the type="html" content is one text node (no child elements) holding the HTML (RFC 4287 §3.1.1.2)
    assert content.get("type") == "html"
    assert list(content) == []
    html = content.text or ""
    assert html.startswith("<p>") and "</ul>" in html
    assert ">Gamma &amp; Co vs &lt;Delta&gt;</a>" in html
    assert 'href="https://verdicts.example.org/c/' in html


def test_the_feed_of_an_empty_archive_is_still_valid_atom(client: TestClient) -> None:
    feed = feedparser.parse(client.get("/archive.atom").content)
    assert not feed.bozo and feed.version == "atom10" and feed.entries == []


def test_a_digest_being_sent_is_readable_on_the_web_but_not_yet_listed(rt: Runtime, client: TestClient) -> None:
    # Given a digest whose delivery has started (one subscriber, batch not sent yet)
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
        factories.confirmed_subscriber(session, "reader@example.org")
        digest = compose.compile_week(session, rt.settings, "2026-W48")
        compose.approve(session, digest.id)
        start_send(session, digest.id)
        assert digest.state == "sending"
    # Then the mail's "read it on the web" link already works, and the list and feed wait for the end
    assert client.get("/archive/2026-W48").status_code == 200
    assert "Alpha vs Beta" not in client.get("/archive").text
    assert feedparser.parse(client.get("/archive.atom").content).entries == []
