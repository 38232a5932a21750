"""queue_candidates: releases in new entries become candidate tools, one per tool however often seen."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.core.db.models import Entry, Evidence, Tool
from services.core.runtime import Runtime
from services.ingest import resolve
from services.ingest.refresh import refresh_sources
from tests.ingest.samples import RELEASES, post_source, releases_and_a_post, releases_source
from tests.local_http import LocalServer, Reply


def test_one_release_in_two_feeds_of_a_batch_becomes_one_candidate_with_both_sightings(
        rt: Runtime, http: LocalServer) -> None:
    # Given the same releases served by two feeds (GitHub and a mirror) that are polled as one batch
    http.routes["/a.atom"] = Reply(body=RELEASES)
    http.routes["/b.atom"] = Reply(body=RELEASES)
    ids = [releases_source(rt, http.url("/a.atom")), releases_source(rt, http.url("/b.atom"))]
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
    ids = releases_and_a_post(rt, http, "Weekly notes")
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


def test_each_tool_of_an_entry_naming_several_is_a_candidate_recording_the_model_version_and_all_names(
        rt: Runtime, http: LocalServer) -> None:
    from services.core.domain import SourceKind
    from services.ingest.detector.model import current_model
    from services.ingest.refresh import refresh_source
    from services.ingest.sources import add_source

    # Given a post that announces two models
    http.routes["/news.rss"] = Reply(body=b"<rss version='2.0'><channel><title>Acme AI</title><item>"
                                          b"<title>Introducing Muse Image and Muse Video</title>"
                                          b"<link>https://ai.example.org/muse</link><guid>muse</guid></item></channel></rss>")
    with rt.sessions() as session, session.begin():
        source_id = add_source(session, http.url("/news.rss"), SourceKind.FEED).id
    # When it is polled
    report = refresh_source(rt.sessions, source_id, rt.settings)
    # Then each model is a candidate, scored by the shipped model, whose evidence lists both names
    assert report.new_candidates == 2
    with rt.sessions() as session:
        tools = session.scalars(select(Tool).order_by(Tool.name)).all()
        assert [(t.name, t.model_version) for t in tools] == [("Muse Image", current_model().version),
                                                              ("Muse Video", current_model().version)]
        assert all(ev.names == ["Muse Image", "Muse Video"] for t in tools for ev in t.evidence)


def test_an_entry_naming_one_tool_twice_gives_one_candidate_with_one_piece_of_evidence(
        any_runtime: Runtime, http: LocalServer) -> None:
    from services.core.db.models import Event
    from services.ingest.refresh import refresh_source

    # Given a post whose title names one tool twice, in two spellings of one key (name:orion-2)
    source_id = post_source(any_runtime, http, "Introducing Orion-2 and Orion 2")
    # When it is polled
    report = refresh_source(any_runtime.sessions, source_id, any_runtime.settings)
    # Then the source stored it (no failure), as one candidate with one piece of evidence and one of each event
    assert (report.status, report.new_entries, report.new_candidates) == ("ok", 1, 1)
    with any_runtime.sessions() as session:
        tool = session.scalars(select(Tool)).one()
        assert tool.name == "Orion-2" and len(tool.evidence) == 1
        assert sorted(session.scalars(select(Event.type).where(Event.type.like("tool.%")))) == ["tool.detected",
                                                                                               "tool.queued"]
