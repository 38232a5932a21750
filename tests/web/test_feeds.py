"""Our own feeds: published comparisons as Atom and JSON Feed 1.1, the archive as JSON Feed 1.1; each parses back."""

from __future__ import annotations

from typing import Any

import feedparser
from fastapi.testclient import TestClient

from services.core.domain import Call
from services.core.runtime import Runtime
from services.review import comparisons
from tests import factories

BASE = "https://verdicts.example.org"


def assert_json_feed_1_1(document: dict[str, Any]) -> None:
    """The fields JSON Feed 1.1 requires: version, title, items; each item an id and content_html or content_text."""
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(document["title"], str) and document["title"]
    assert isinstance(document["items"], list)
    for item in document["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert isinstance(item.get("content_html") or item.get("content_text"), str)


def _published(rt: Runtime, a: str, b: str) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, a, b)


def test_the_comparisons_atom_feed_parses_with_an_entry_per_published_comparison(rt: Runtime,
                                                                                 client: TestClient) -> None:
    # Given two published comparisons and a draft
    _published(rt, "Alpha", "Beta")
    _published(rt, "Gamma & Co", "Delta")
    with rt.sessions() as session, session.begin():
        draft = factories.judged_tool(session, "Draft One", (Call.SHIP,) * 4)
        other = factories.judged_tool(session, "Draft Two", (Call.SHIP,) * 4)
        comparisons.create(session, draft.id, other.id)
    # When a feed reader fetches the Atom feed
    response = client.get("/comparisons.atom")
    # Then it is well-formed Atom 1.0, newest first, linking to each comparison page, the draft left out
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert [e.link for e in feed.entries] == [f"{BASE}/c/gamma-co-vs-delta", f"{BASE}/c/alpha-vs-beta"]
    assert [e.title for e in feed.entries] == ["Gamma & Co vs Delta", "Alpha vs Beta"]
    assert "Gamma &amp; Co" in feed.entries[0].content[0].value and "panel ship 75%" in feed.entries[0].content[0].value
    assert all(e.get("published_parsed") for e in feed.entries)
    assert feed.entries[0].tags[0].term == "Developer Tools"


def test_the_comparisons_json_feed_is_json_feed_1_1(rt: Runtime, client: TestClient) -> None:
    # Given a published comparison whose tagline carries markup
    _published(rt, "Alpha", "Beta <script>")
    # When the JSON Feed is fetched
    response = client.get("/comparisons.json")
    # Then it has what JSON Feed 1.1 requires, one item per comparison, the markup escaped in content_html
    assert response.headers["content-type"].startswith("application/feed+json")
    document = response.json()
    assert_json_feed_1_1(document)
    assert document["feed_url"] == f"{BASE}/comparisons.json" and document["home_page_url"] == f"{BASE}/"
    [item] = document["items"]
    assert item["id"] == item["url"] == f"{BASE}/c/alpha-vs-beta-script"
    assert item["title"] == "Alpha vs Beta <script>"
    assert "<script>" not in item["content_html"] and "Beta &lt;script&gt;" in item["content_html"]
    assert item["date_published"].endswith("Z") and item["tags"] == ["Developer Tools"]


def test_the_feeds_of_nothing_published_are_still_valid(client: TestClient) -> None:
    atom = feedparser.parse(client.get("/comparisons.atom").content)
    assert not atom.bozo and atom.version == "atom10" and atom.entries == []
    for path in ("/comparisons.json", "/archive.json"):
        document = client.get(path).json()
        assert_json_feed_1_1(document)
        assert document["items"] == []


def test_the_archive_json_feed_has_an_item_per_sent_digest(rt: Runtime, client: TestClient) -> None:
    # Given a sent digest
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
        factories.sent_digest(session, rt.settings, "2026-W48")
    # When the archive's JSON Feed is fetched
    document = client.get("/archive.json").json()
    # Then it lists the digest, linking to its archive page and its comparisons
    assert_json_feed_1_1(document)
    [item] = document["items"]
    assert item["id"] == item["url"] == f"{BASE}/archive/2026-W48"
    assert item["title"].startswith("Alpha vs Beta")
    assert f'href="{BASE}/c/alpha-vs-beta"' in item["content_html"]
    assert item["date_published"].endswith("Z")


def test_the_index_and_archive_announce_their_feeds(client: TestClient) -> None:
    index = client.get("/").text
    assert 'type="application/atom+xml" title="Verdicts comparisons" href="/comparisons.atom"' in index
    assert 'type="application/feed+json" title="Verdicts comparisons" href="/comparisons.json"' in index
    assert 'type="application/feed+json" title="Verdicts digests" href="/archive.json"' in client.get("/archive").text
