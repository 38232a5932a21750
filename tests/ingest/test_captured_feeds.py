"""The real captured feeds in ../shared/feeds through the whole path: served, fetched, parsed, stored, detected."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.core.db.models import Entry, Source, Tool
from services.core.domain import SourceKind
from services.core.runtime import Runtime
from services.ingest.refresh import refresh_source
from services.ingest.sources import add_source
from tests.conftest import SHARED, shared_path
from tests.local_http import LocalServer, Reply

CAPTURED = sorted(p.name for p in (SHARED / "feeds").glob("*.xml")) if (SHARED / "feeds").exists() else ["missing.xml"]
NOT_RELEASES = ("omarchy_anthropic-status.xml", "omarchy_openai-status.xml", "omarchy_lilian-weng.xml",
                "omarchy_chip-huyen.xml", "omarchy_anthropic-engineering.xml")


def _kind(name: str) -> SourceKind:
    return SourceKind.GITHUB_RELEASES if "releases" in name or name.endswith(("-sdk.xml", "mcp-servers.xml")) \
        else SourceKind.FEED


@pytest.mark.parametrize("name", CAPTURED)
def test_a_captured_feed_goes_through_the_whole_path_once(rt: Runtime, http: LocalServer, name: str) -> None:
    # Given a real feed served as its publisher served it
    body = shared_path("feeds", name).read_bytes()
    http.routes["/feed"] = Reply(body=body, headers={"Content-Type": "application/xml"}, etag='"cap"')
    with rt.sessions() as session, session.begin():
        source_id = add_source(session, http.url("/feed"), _kind(name)).id
    # When it is polled, then polled again
    first = refresh_source(rt.sessions, source_id, rt.settings)
    second = refresh_source(rt.sessions, source_id, rt.settings)
    # Then entries were stored once, with sanitized text, and the second poll was a 304
    assert first.status == "ok" and first.new_entries > 0, first
    assert second.status in ("not_modified", "skipped")
    with rt.sessions() as session:
        entries = session.scalars(select(Entry)).all()
        assert len(entries) == first.new_entries
        assert all("<script" not in e.summary.lower() and "<" not in e.title for e in entries)
        assert session.get(Source, source_id).last_error is None
        tools = session.scalar(select(func.count()).select_from(Tool))
    if name in NOT_RELEASES:
        assert tools == 0, f"{name} is not a release feed, yet it produced candidates"


def test_the_cross_source_duplicates_in_the_captures_are_counted_once(rt: Runtime, http: LocalServer) -> None:
    # Given the Claude Code changelog and its GitHub releases feed (the same versions in both)
    for path, name in (("/releases", "omarchy_claude-code-releases.xml"), ("/changelog", "omarchy_claude-code-changelog.xml")):
        http.routes[path] = Reply(body=shared_path("feeds", name).read_bytes())
    with rt.sessions() as session, session.begin():
        ids = [add_source(session, http.url("/releases"), SourceKind.GITHUB_RELEASES).id,
               add_source(session, http.url("/changelog"), SourceKind.FEED).id]
    for source_id in ids:
        refresh_source(rt.sessions, source_id, rt.settings)
    # Then the releases resolve to one tool (the repository), not one per version
    with rt.sessions() as session:
        keys = session.scalars(select(Tool.canonical_key)).all()
    assert keys.count("github:anthropics/claude-code") == 1
