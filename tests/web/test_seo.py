"""For search engines: JSON-LD on tool and comparison pages, robots.txt, the sitemap (paged past 50,000),
canonical links."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from services.core.db.models import Tool
from services.core.runtime import Runtime
from services.web.public import seo
from services.web.public.structured_data import offer
from tests import factories

BASE = "https://verdicts.example.org"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def _json_ld(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    assert found, "the page carries JSON-LD"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def _locs(xml: bytes, tag: str = "url") -> list[str]:
    return [element.text or "" for element in ET.fromstring(xml).findall(f"s:{tag}/s:loc", NS)]


def test_a_tool_page_describes_the_tool_as_a_software_application(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
    data = _json_ld(client.get("/t/alpha").text)
    assert data == {"@context": "https://schema.org", "@type": "SoftwareApplication", "name": "Alpha",
                    "url": f"{BASE}/t/alpha", "applicationCategory": "Developer Tools",
                    "offers": {"@type": "Offer", "price": "0", "priceCurrency": "USD"}}


def test_a_comparison_page_describes_both_tools(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
    data = _json_ld(client.get("/c/alpha-vs-beta").text)
    assert data["@type"] == "Article" and data["url"] == f"{BASE}/c/alpha-vs-beta"
    assert [tool["name"] for tool in data["about"]] == ["Alpha", "Beta"]  # type: ignore[index, union-attr]


def test_json_ld_cannot_close_its_script_element(rt: Runtime, client: TestClient) -> None:
    # Given a tool whose name tries to end the script and open a comment
    with rt.sessions() as session, session.begin():
        comparison = factories.published_comparison(session, "Alpha", "Beta")
        tool = session.get(Tool, comparison.tool_a_id)
        assert tool is not None
        tool.name = "</script><script>alert(1)</script><!--"
    # When its page is served
    html = client.get("/t/alpha").text
    # Then the script holds the name as escaped JSON: still one script element, the name intact when parsed
    script = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in script and "alert(1)" in script
    assert _json_ld(html)["name"] == "</script><script>alert(1)</script><!--"


@pytest.mark.parametrize(("price", "expected"), [
    ("Free", ("0", "USD")), ("Free tier, then $10/mo", ("0", "USD")), ("$20/mo", ("20", "USD")),
    ("From €15 a month", ("15", "EUR")), ("9.99 GBP", ("9.99", "GBP")), ("Contact sales", None), (None, None)])
def test_an_entry_price_becomes_an_offer_when_it_names_an_amount(price: str | None,
                                                                 expected: tuple[str, str] | None) -> None:
    found = offer(price)
    assert (found and (found["price"], found["priceCurrency"])) == expected


def test_robots_txt_keeps_crawlers_out_of_private_pages_and_names_the_sitemap(client: TestClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert lines[0] == "User-agent: *"
    for path in ("/editor/", "/ops", "/api/", "/login", "/unsubscribe/", "/prefs/", "/vote/"):
        assert f"Disallow: {path}" in lines
    assert f"Sitemap: {BASE}/sitemap.xml" in lines


def test_the_sitemap_lists_every_public_page_and_nothing_else(rt: Runtime, client: TestClient) -> None:
    # Given a sent digest of a published comparison, and a candidate
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
        factories.candidate(session, "Queued")
        factories.sent_digest(session, rt.settings, "2026-W48")
    # When a crawler reads the sitemap
    response = client.get("/sitemap.xml")
    # Then it is one urlset of the public pages
    assert response.headers["content-type"].startswith("application/xml")
    assert sorted(_locs(response.content)) == sorted([
        f"{BASE}/", f"{BASE}/archive", f"{BASE}/archive/2026-W48", f"{BASE}/category/developer-tools",
        f"{BASE}/c/alpha-vs-beta", f"{BASE}/t/alpha", f"{BASE}/t/beta"])


def test_past_the_limit_the_sitemap_is_an_index_of_pages(rt: Runtime, client: TestClient,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # Given six public addresses (index, archive, category, comparison, two tools) and a limit of three a file
    monkeypatch.setattr(seo, "SITEMAP_LIMIT", 3)
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
    # When a crawler reads the sitemap
    index = client.get("/sitemap.xml")
    # Then it is a sitemap index of numbered pages that together hold every address once
    pages = _locs(index.content, "sitemap")
    assert ET.fromstring(index.content).tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    assert pages == [f"{BASE}/sitemap-1.xml", f"{BASE}/sitemap-2.xml"]
    urls = [loc for page in pages for loc in _locs(client.get(page.removeprefix(BASE)).content)]
    assert all(len(_locs(client.get(page.removeprefix(BASE)).content)) <= 3 for page in pages)
    assert len(urls) == len(set(urls)) == 6
    assert f"{BASE}/t/beta" in urls and f"{BASE}/c/alpha-vs-beta" in urls
    assert client.get("/sitemap-3.xml").status_code == 404


def test_public_pages_name_their_canonical_address(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
    for path in ("/", "/archive", "/c/alpha-vs-beta", "/t/alpha", "/category/developer-tools"):
        assert f'<link rel="canonical" href="{BASE}{path}">' in client.get(path, params={"utm_source": "x"}).text, path
