"""refresh_source: fetch → parse → store → detect → queue, through a real local server and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.core.db.models import Entry, Event, Evidence, Source, Tool
from services.core.domain import SourceKind, SourceState, ToolState
from services.core.runtime import Runtime
from services.ingest import pipeline, resolve
from services.ingest.pipeline import PAUSE_AFTER_FAILURES, refresh_source, refresh_sources
from services.ingest.sources import add_source, due_source_ids, source_rows
from tests.local_http import LocalServer, Reply

RELEASES = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>Release notes from widget</title><updated>2026-11-26T00:00:00Z</updated>
<entry><id>tag:github.com,2008:Repository/1/v2.0.0</id><updated>2026-11-26T00:00:00Z</updated>
<link rel="alternate" href="https://github.com/acme/widget/releases/tag/v2.0.0"/><title>v2.0.0</title>
<content type="html">&lt;p&gt;Big release&lt;/p&gt;</content></entry>
<entry><id>tag:github.com,2008:Repository/1/v1.9.0</id><updated>2026-11-20T00:00:00Z</updated>
<link rel="alternate" href="https://github.com/acme/widget/releases/tag/v1.9.0"/><title>v1.9.0</title></entry>
</feed>"""


def _source(rt: Runtime, url: str) -> int:
    with rt.sessions() as session, session.begin():
        return add_source(session, url, SourceKind.GITHUB_RELEASES).id


def _releases_and_a_post(rt: Runtime, http: LocalServer, post_title: str) -> list[int]:
    """Two sources for one batch: the RELEASES feed, and a feed of one post titled ``post_title``."""
    http.routes["/a.atom"] = Reply(body=RELEASES)
    http.routes["/post.xml"] = Reply(body=b"<rss version='2.0'><channel><title>n</title><item><title>"
                                     + post_title.encode() + b"</title><guid>p1</guid></item></channel></rss>")
    return [_source(rt, http.url("/a.atom")), _source(rt, http.url("/post.xml"))]


def test_a_release_feed_becomes_entries_and_one_candidate_with_evidence(rt: Runtime, http: LocalServer) -> None:
    # Given a GitHub releases feed with two releases of one repository
    http.routes["/releases.atom"] = Reply(body=RELEASES, etag='"r1"')
    source_id = _source(rt, http.url("/releases.atom"))
    # When the source is refreshed
    report = refresh_source(rt.sessions, source_id, rt.settings)
    # Then both entries are stored, and they resolve to one candidate with two pieces of evidence
    assert (report.status, report.new_entries, report.new_candidates) == ("ok", 2, 1)
    with rt.sessions() as session:
        tool = session.scalars(select(Tool)).one()
        assert tool.state == ToolState.CANDIDATE.value and tool.canonical_key == "github:acme/widget"
        assert len(tool.evidence) == 2
        types = list(session.scalars(select(Event.type).order_by(Event.id)))
        assert types.count("entry.ingested") == 2 and "tool.detected" in types and "tool.queued" in types
        source = session.get(Source, source_id)
        assert source.etag == '"r1"' and source.last_success_at is not None


def test_a_second_poll_is_not_modified_and_stores_nothing_twice(rt: Runtime, http: LocalServer) -> None:
    http.routes["/releases.atom"] = Reply(body=RELEASES, etag='"r1"')
    source_id = _source(rt, http.url("/releases.atom"))
    refresh_source(rt.sessions, source_id, rt.settings)
    # When polled again
    again = refresh_source(rt.sessions, source_id, rt.settings)
    # Then the server said 304 and nothing new was stored
    assert again.status == "not_modified"
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 2


def test_a_changed_feed_without_validators_stores_only_new_entries(rt: Runtime, http: LocalServer) -> None:
    http.routes["/releases.atom"] = Reply(body=RELEASES)
    source_id = _source(rt, http.url("/releases.atom"))
    refresh_source(rt.sessions, source_id, rt.settings)
    assert refresh_source(rt.sessions, source_id, rt.settings).new_entries == 0


def test_one_release_in_two_feeds_of_a_batch_becomes_one_candidate_with_both_sightings(
        rt: Runtime, http: LocalServer) -> None:
    # Given the same releases served by two feeds (GitHub and a mirror) that are polled as one batch
    http.routes["/a.atom"] = Reply(body=RELEASES)
    http.routes["/b.atom"] = Reply(body=RELEASES)
    ids = [_source(rt, http.url("/a.atom")), _source(rt, http.url("/b.atom"))]
    # When the batch is refreshed
    reports = refresh_sources(rt.sessions, ids, rt.settings)
    # Then each feed stored its own entries, the first opened the candidate and the second added to it
    assert [(r.status, r.new_entries, r.new_candidates) for r in reports] == [("ok", 2, 1), ("ok", 2, 0)]
    with rt.sessions() as session:
        tool = session.scalars(select(Tool)).one()
        expected = [http.url("/a.atom")] * 2 + [http.url("/b.atom")] * 2
        assert sorted(e.source_url for e in tool.evidence) == sorted(expected)


def test_a_tool_another_worker_creates_during_a_batch_store_is_joined_not_duplicated(
        rt: Runtime, http: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two feeds polled as one batch, and another worker that creates the tool the first feed
    # names just after this batch looked its keys up (and before it inserts)
    ids = _releases_and_a_post(rt, http, "Weekly notes")
    lookup, raced = resolve.known_tools, []

    def known_tools_then_a_rival_commits(session, keys):  # type: ignore[no-untyped-def]
        found = lookup(session, keys)
        if not raced:
            raced.append(True)
            with rt.sessions() as rival, rival.begin():
                rival.add(Tool(slug="widget", name="widget", canonical_key="github:acme/widget"))
        return found

    monkeypatch.setattr(resolve, "known_tools", known_tools_then_a_rival_commits)
    # When the batch is refreshed
    reports = refresh_sources(rt.sessions, ids, rt.settings)
    # Then the collision was resolved again: the releases joined the rival's tool, and the other
    # feed lost nothing
    assert raced and [(r.status, r.new_entries) for r in reports] == [("ok", 2), ("ok", 1)]
    with rt.sessions() as session:
        tool = session.scalars(select(Tool)).one()
        assert tool.slug == "widget" and session.scalar(select(func.count()).select_from(Evidence)) == 2
        assert session.scalar(select(func.count()).select_from(Entry)) == 3


def test_a_feed_that_trips_the_store_fails_alone_and_the_rest_of_its_batch_is_stored(
        rt: Runtime, http: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a batch of two feeds, and a detector that breaks on one entry of the second
    ids = _releases_and_a_post(rt, http, "Trips the detector")
    real_detect = pipeline.detect

    def detect_with_a_bug(entry):  # type: ignore[no-untyped-def]
        if entry.title == "Trips the detector":
            raise RuntimeError("detector bug")
        return real_detect(entry)

    monkeypatch.setattr(pipeline, "detect", detect_with_a_bug)
    # When the batch is refreshed
    reports = refresh_sources(rt.sessions, ids, rt.settings)
    # Then the first feed is stored in full and the second is recorded as a store failure
    assert [r.status for r in reports] == ["ok", "failed"]
    assert reports[0].new_entries == 2 and "detector bug" in (reports[1].error or "")
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 2
        bad = session.get(Source, ids[1])
        assert bad.last_error_kind == "store" and bad.consecutive_failures == 1


def test_a_broken_feed_is_recorded_on_its_source_and_backs_off(rt: Runtime, http: LocalServer) -> None:
    # Given a source that answers with an HTML page
    http.routes["/broken"] = Reply(body=b"<html><body>maintenance</body></html>")
    source_id = _source(rt, http.url("/broken"))
    # When it is refreshed
    report = refresh_source(rt.sessions, source_id, rt.settings)
    # Then the failure is recorded on the source, and it is no longer due
    assert report.status == "failed"
    with rt.sessions() as session:
        row = next(r for r in source_rows(session) if r["id"] == source_id)
        assert row["consecutive_failures"] == 1 and row["last_error"]
        assert row["last_error_kind"] in ("malformed", "not_a_feed")
        assert source_id not in due_source_ids(session)


def test_a_source_that_keeps_failing_is_paused_with_the_reason(rt: Runtime, http: LocalServer) -> None:
    http.routes["/down"] = Reply(500, b"oops")
    source_id = _source(rt, http.url("/down"))
    for _ in range(PAUSE_AFTER_FAILURES):
        refresh_source(rt.sessions, source_id, rt.settings)
    with rt.sessions() as session:
        source = session.get(Source, source_id)
        assert source.state == SourceState.PAUSED.value
        assert "failures in a row" in (source.state_reason or "")


def test_gone_disables_the_source(rt: Runtime, http: LocalServer) -> None:
    http.routes["/gone"] = Reply(410, b"")
    source_id = _source(rt, http.url("/gone"))
    refresh_source(rt.sessions, source_id, rt.settings)
    with rt.sessions() as session:
        assert session.get(Source, source_id).state == SourceState.DISABLED.value
