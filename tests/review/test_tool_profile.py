"""A tool's profile: its release timeline across sources, its alternatives, when it last changed; only approved
tools have one."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from services.core.db.models import Entry, Evidence, Source, Tool
from services.core.domain import Call, EvidenceKind, ToolState
from services.core.runtime import Runtime
from services.review import tool_profile
from services.review.errors import ToolNotFound
from tests import factories

DAY = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _approved(session: Session, name: str) -> Tool:
    tool = factories.candidate(session, name)
    tool.state = ToolState.APPROVED
    return tool


def _seen(session: Session, tool: Tool, source: str, version: str | None, days: int, *,
          published_days: int | None = None) -> None:
    entry_id = None
    if published_days is not None:
        feed = Source(url=source, title=source)
        session.add(feed)
        session.flush()
        entry = Entry(source_id=feed.id, guid=f"{source}#{version}", title=f"{version}", content_hash="x",
                      published_at=DAY + dt.timedelta(days=published_days))
        session.add(entry)
        session.flush()
        entry_id = entry.id
    session.add(Evidence(tool_id=tool.id, entry_id=entry_id, source_url=source, url=f"{source}/{version}",
                         title=f"Tool {version or 'launch'}", version=version,
                         kind=EvidenceKind.UPDATE if version else EvidenceKind.DETECTED,
                         created_at=DAY + dt.timedelta(days=days)))
    session.flush()


def test_the_timeline_has_each_version_once_newest_first_with_every_source(rt: Runtime) -> None:
    # Given a launch post, then v1.2.0 seen on GitHub and (written differently, a day later) on the vendor blog,
    # then 1.3.0 whose GitHub entry was published before we stored it
    with rt.sessions() as session, session.begin():
        tool = _approved(session, "Timed")
        _seen(session, tool, "https://vendor.example/blog", None, 0)
        _seen(session, tool, "https://github.com/acme/timed/releases.atom", "v1.2.0", 3)
        _seen(session, tool, "https://vendor.example/blog", "1.2.0 ", 4)
        _seen(session, tool, "https://github.com/acme/timed/releases.atom", "1.3.0", 9, published_days=8)
        slug = tool.slug
    # When the timeline is read
    with rt.sessions() as session:
        releases = tool_profile.profile(session, slug).releases
    # Then each version is one row, newest first, dated by its first sighting, with each source's host
    assert [(r.version, r.seen_at.date().day, r.sources) for r in releases] == [
        ("1.3.0", 9, ["github.com"]),
        ("v1.2.0", 4, ["github.com", "vendor.example"]),
        (None, 1, ["vendor.example"]),
    ]
    assert releases[1].url == "https://github.com/acme/timed/releases.atom/v1.2.0"


def test_alternatives_are_judged_tools_of_the_category_by_panel_ship(rt: Runtime) -> None:
    # Given three judged tools in one category, one in another, and an unjudged one in the same
    with rt.sessions() as session, session.begin():
        tool = factories.judged_tool(session, "Subject", (Call.SHIP,) * 4)
        factories.judged_tool(session, "Half", (Call.SHIP, Call.SHIP, Call.SKIP, Call.SKIP))
        factories.judged_tool(session, "Most", (Call.SHIP, Call.SHIP, Call.SHIP, Call.SKIP))
        factories.judged_tool(session, "Other Field", (Call.SHIP,) * 4, category="Audio")
        factories.candidate(session, "Unjudged").category = "Developer Tools"
        # When its alternatives are read
        found = tool_profile.alternatives(session, tool)
        # Then they are the other judged tools of its category, best ship % first
        assert [(hit.name, hit.panel_ship_percent) for hit in found] == [("Most", 75), ("Half", 50)]


def test_last_updated_is_the_latest_evidence_or_verdict(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        tool = _approved(session, "Quiet")
        assert tool_profile.profile(session, tool.slug).last_updated is None
        _seen(session, tool, "https://vendor.example/blog", "2.0", 5)
        assert tool_profile.profile(session, tool.slug).last_updated == DAY + dt.timedelta(days=5)
        judged = factories.judged_tool(session, "Judged", (Call.SHIP,) * 4)
        _seen(session, judged, "https://vendor.example/blog", "0.1", 0)
        updated = tool_profile.profile(session, judged.slug).last_updated
        assert updated is not None and updated > DAY + dt.timedelta(days=5)


def test_a_tool_not_approved_has_no_profile(rt: Runtime) -> None:
    # Given a candidate still in the queue
    with rt.sessions() as session, session.begin():
        slug = factories.candidate(session, "Pending").slug
        # When its profile is asked for, Then it is not found, like a slug no tool has
        with pytest.raises(ToolNotFound):
            tool_profile.profile(session, slug)
        with pytest.raises(ToolNotFound):
            tool_profile.profile(session, "no-such-tool")
