"""Feed text can never put markup or script into a page: hostile payloads go through the real ingest
path (a local feed, fetched, parsed, stored, detected) and then through every page that shows them."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core import links
from services.core.db.models import Tool
from services.core.domain import Call
from services.core.runtime import Runtime
from services.ingest.refresh import refresh_source
from services.ingest.sources import add_source
from services.review import comparisons, panel, queue
from tests import factories
from tests.local_http import Reply, serving
from tests.web.conftest import add_user, sign_in

SCRIPT = "<script>alert('xss-script')</script>"
HANDLER = "<img src=x onerror=alert('xss-handler')>"
FEED = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hostile {SCRIPT.replace('<', '&lt;')}</title><link>https://evil.example/</link>
<description>x</description>
<item>
  <title>Introducing Evil Coder 2.0 {SCRIPT.replace('<', '&lt;')} {HANDLER.replace('<', '&lt;')}</title>
  <link>javascript:alert('xss-link')</link>
  <guid>evil-1</guid>
  <description><![CDATA[<p onclick="alert('xss-click')">Evil Coder 2.0 is now available.</p>
    <a href="javascript:alert('xss-href')">docs</a> {SCRIPT} {HANDLER}
    <iframe src="javascript:alert('xss-frame')"></iframe><svg onload="alert('xss-svg')"></svg>]]></description>
</item>
</channel></rss>"""


class _Dangers(HTMLParser):
    """Collects what would run in a browser: script bodies, on* attributes, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False
        self._in_data = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # A JSON-LD block is data the browser never runs (HTML: a script of a non-JavaScript type), so its
        # body is checked for what could end it early instead: no "<" at all
        self._in_data = tag == "script" and dict(attrs).get("type") == "application/ld+json"
        self._in_script = tag == "script" and not self._in_data
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction") and value and \
                    re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(("javascript:", "data:", "vbscript:")):
                self.found.append(f"<{tag} {name}={value}>")
        if tag in ("iframe", "svg", "img", "object", "embed"):
            self.found.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_data = False

    def handle_data(self, data: str) -> None:
        if self._in_script and "xss" in data:
            self.found.append(f"script running feed text: {data[:60]}")
        if self._in_data and "<" in data:
            self.found.append(f"markup inside a JSON-LD block: {data[:60]}")


def _dangers(html: str) -> list[str]:
    parser = _Dangers()
    parser.feed(html)
    return parser.found


def test_hostile_feed_text_is_escaped_or_removed_on_every_page(rt: Runtime, client: TestClient) -> None:
    # Given a feed whose title, link and summary carry script, event handlers and javascript: URLs
    with serving() as server:
        server.routes["/feed.xml"] = Reply(body=FEED.encode(), headers={"Content-Type": "application/rss+xml"})
        with rt.sessions() as session, session.begin():
            source_id = add_source(session, server.url("/feed.xml")).id
        # When it is fetched and detected through the real pipeline
        report = refresh_source(rt.sessions, source_id, rt.settings)
    assert report.new_candidates == 1, report
    with rt.sessions() as session:
        tool = session.scalar(select(Tool).where(Tool.state == "candidate"))
        assert tool is not None and "Evil Coder" in tool.name
        tool_id = tool.id
    editor_token = sign_in(client, add_user(rt, "ed@example.org", "editor").email)
    pages = {"queue": client.get("/editor/queue").text}
    assert "Evil Coder" in pages["queue"]
    # And the editor approves it as it came (the detected name kept), the panel quotes it, and it is published
    assert client.post(f"/editor/queue/{tool_id}/approve",
                       data={"csrf_token": editor_token, "tagline": "Evil Coder 2.0"}).status_code == 200
    with rt.sessions() as session, session.begin():
        verdict_id = factories.tool_verdict_id(session, session.get(Tool, tool_id))
        for seat in panel.ensure_seats(session):
            panel.submit(session, verdict_id, seat.id, Call.SHIP, f"quoted: {SCRIPT} {HANDLER}")
        other = factories.judged_tool(session, "Plain Tool", (Call.SKIP,) * 4, category=None)  # type: ignore[arg-type]
        comparison = comparisons.create(session, tool_id, other.id, editor_note="fine")
        comparisons.publish(session, comparison.id)
        slug, tool_slug = comparison.slug, session.get(Tool, tool_id).slug
        reader = factories.confirmed_subscriber(session, "reader@example.org")
    vote_url = links.vote(rt.settings, reader.id, tool_id, "ship").removeprefix(rt.settings.public_url)
    pages |= {
        "queue (approved)": client.get("/editor/queue?state=approved").text,
        "audit": client.get("/editor/audit").text,
        "comparisons": client.get("/editor/comparisons").text,
        "comparison": client.get(f"/c/{slug}").text,
        "tool": client.get(f"/t/{tool_slug}").text,
        "index": client.get("/").text,
        "vote": client.get(vote_url).text,
    }
    # Then on every page the feed's text shows as text, and nothing of it can run
    for name, html in pages.items():
        assert "Evil Coder" in html, name
        assert _dangers(html) == [], name
        assert SCRIPT not in html and HANDLER not in html, name


def test_pages_escape_hostile_text_even_if_it_reached_the_database_raw(rt: Runtime, client: TestClient) -> None:
    # Given entries stored as they are (bypassing the parser's cleaning), so the pages alone must hold
    import datetime as dt

    from services.core.domain import ParsedEntry
    from services.ingest.store import store_entries

    raw = ParsedEntry(guid="raw-1", title=f"Introducing Evil Coder 2.0 {SCRIPT}", link="javascript:alert('xss-link')",
                      summary=f"<p onclick=\"alert('xss-click')\">now available</p>{SCRIPT}{HANDLER}",
                      published_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    with rt.sessions() as session, session.begin():
        source = add_source(session, "https://hostile.example/feed.xml")
        assert store_entries(session, [(source, [raw])])[source.id][:2] == (1, 1)
        tool = session.scalar(select(Tool).where(Tool.state == "candidate"))
        assert tool is not None
        tool.name, tool.tagline, tool.description = f"Evil Coder {SCRIPT}", HANDLER, SCRIPT
        tool.homepage = "javascript:alert('xss-home')"
        tool_id = tool.id
    sign_in(client, add_user(rt, "ed@example.org", "editor").email)
    queue_page = client.get("/editor/queue").text
    with rt.sessions() as session, session.begin():
        queue.approve(session, tool_id, None)
        tool = session.get(Tool, tool_id)
        tool.homepage = "javascript:alert('xss-home')"  # as if set before links were checked
        verdict_id = factories.tool_verdict_id(session, tool)
        for seat in panel.ensure_seats(session):
            panel.submit(session, verdict_id, seat.id, Call.SHIP, SCRIPT)
        other = factories.judged_tool(session, "Plain Tool", (Call.SKIP,) * 4)
        comparison = comparisons.create(session, tool_id, other.id, editor_note=HANDLER)
        comparisons.publish(session, comparison.id)
        slug, tool_slug = comparison.slug, tool.slug
    # Then every page shows the text escaped, with no live script, handler or javascript: link
    for name, html in {"queue": queue_page, "comparison": client.get(f"/c/{slug}").text,
                       "tool": client.get(f"/t/{tool_slug}").text, "index": client.get("/").text,
                       "audit": client.get("/editor/audit").text}.items():
        assert "Evil Coder" in html, name
        assert _dangers(html) == [], name
        assert SCRIPT not in html and HANDLER not in html, name
    assert "&lt;script&gt;" in client.get(f"/c/{slug}").text
