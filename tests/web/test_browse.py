"""Browsing the public site: category pages with counts, the search page, the header's search box."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from services.core.domain import Call
from services.core.runtime import Runtime
from services.review import categories, queue
from services.review.tool_edits import ToolEdits
from tests import factories


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_category_page_lists_its_tools_and_comparisons_with_counts(rt: Runtime, client: TestClient) -> None:
    # Given a published comparison in "Developer Tools", a third approved tool there, and one elsewhere
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
        factories.judged_tool(session, "Gamma", (Call.SHIP,) * 4, category="Developer Tools")
        factories.judged_tool(session, "Elsewhere", (Call.SHIP,) * 4, category="Audio")
        factories.candidate(session, "Queued Only")
    # When a reader opens the category
    response = client.get("/category/developer-tools")
    # Then it lists the category's tools and comparisons, and counts them
    assert response.status_code == 200
    page = _text(response.text)
    assert "<h1><bdi>Developer Tools</bdi></h1>" in response.text
    assert "3 tools · 1 comparison" in page
    assert 'href="/c/alpha-vs-beta"' in response.text
    assert all(f'href="/t/{slug}"' in response.text for slug in ("alpha", "beta", "gamma"))
    assert "Elsewhere" not in page and "Queued Only" not in page
    assert "75% ship" in page
    assert '<link rel="canonical" href="https://verdicts.example.org/category/developer-tools">' in response.text


def test_tool_and_comparison_pages_link_to_their_category(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
    assert 'href="/category/developer-tools"' in client.get("/c/alpha-vs-beta").text
    assert 'href="/category/developer-tools"' in client.get("/t/alpha").text


def test_an_unknown_or_unpublished_category_is_not_found(rt: Runtime, client: TestClient) -> None:
    # Given a category that only a candidate carries
    with rt.sessions() as session, session.begin():
        tool = factories.candidate(session, "Queued")
        tool.category = "Secret Plans"
    # Then neither it nor an unknown name has a page
    assert client.get("/category/secret-plans").status_code == 404
    assert client.get("/category/nothing-here").status_code == 404


def test_a_long_category_is_paged(rt: Runtime, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given five approved tools of one category and two a page
    monkeypatch.setattr(categories, "PAGE_SIZE", 2)
    with rt.sessions() as session, session.begin():
        for name in ("Echo", "Delta", "Charlie", "Bravo", "Able"):
            queue.approve(session, factories.candidate(session, name).id, None, ToolEdits(category="Audio"))
    # When a reader opens the second page, and one past the end
    second = client.get("/category/audio?page=2")
    past = client.get("/category/audio?page=9")
    # Then tools come by name, two a page, with links to the neighbours; past the end is the last page
    assert re.findall(r'href="/t/([a-z]+)"', second.text) == ["charlie", "delta"]
    assert 'rel="prev" href="?page=1"' in second.text and 'rel="next" href="?page=3"' in second.text
    assert "Page 2 of 3" in second.text and "5 tools" in _text(second.text)
    assert re.findall(r'href="/t/([a-z]+)"', past.text) == ["echo"]


def test_the_search_page_finds_tools_and_comparisons(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
    response = client.get("/search", params={"q": "alpha"})
    assert response.status_code == 200
    assert 'href="/t/alpha"' in response.text and 'href="/c/alpha-vs-beta"' in response.text
    assert 'href="/t/beta"' not in response.text
    assert 'value="alpha"' in response.text
    assert "Nothing matches" in client.get("/search", params={"q": "zzz"}).text


def test_every_public_page_has_the_search_box_in_its_header(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
    for path in ("/", "/c/alpha-vs-beta", "/t/alpha", "/archive", "/category/developer-tools", "/search"):
        header = client.get(path).text.split("</header>")[0]
        assert '<form class="site-search" role="search" method="get" action="/search">' in header, path
        assert 'name="q"' in header, path


def test_the_query_and_category_names_are_escaped(rt: Runtime, client: TestClient) -> None:
    # Given a tool whose category and tagline carry markup
    with rt.sessions() as session, session.begin():
        tool = factories.candidate(session, "Sneaky")
        queue.approve(session, tool.id, None, ToolEdits(category="<b>Bold</b>", tagline="<script>alert(1)</script>"))
    # When it is browsed and searched with markup in the query
    category = client.get("/category/b-bold-b")
    found = client.get("/search", params={"q": 'sneaky"><script>alert(1)</script>'})
    # Then the markup is shown as text, never run
    assert category.status_code == 200 and "&lt;b&gt;Bold&lt;/b&gt;" in category.text
    for response in (category, found):
        assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in found.text
