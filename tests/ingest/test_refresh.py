"""refresh_source / refresh_sources: fetch → parse → store → detect → queue, through a real local
server and PostgreSQL, with each outcome recorded on its source."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from services.core.db.models import Entry, Event, Source, Tool
from services.core.domain import SourceKind, ToolState
from services.core.runtime import Runtime
from services.ingest import refresh, store
from services.ingest.claims import claim_many
from services.ingest.refresh import refresh_source, refresh_sources
from services.ingest.source_health import PollSuccess
from services.ingest.sources import add_source
from tests.ingest.samples import RELEASES, releases_and_a_post, releases_source
from tests.local_http import LocalServer, Reply


def test_a_release_feed_becomes_entries_and_one_candidate_with_evidence(rt: Runtime, http: LocalServer) -> None:
    # Given a GitHub releases feed with two releases of one repository
    http.routes["/releases.atom"] = Reply(body=RELEASES, etag='"r1"')
    source_id = releases_source(rt, http.url("/releases.atom"))
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
    source_id = releases_source(rt, http.url("/releases.atom"))
    refresh_source(rt.sessions, source_id, rt.settings)
    # When polled again
    again = refresh_source(rt.sessions, source_id, rt.settings)
    # Then the server said 304 and nothing new was stored
    assert again.status == "not_modified"
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 2


def test_a_feed_that_trips_the_store_fails_alone_and_the_rest_of_its_batch_is_stored(
        rt: Runtime, http: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a batch of two feeds, and a detector that breaks on one entry of the second
    ids = releases_and_a_post(rt, http, "Trips the detector")
    real_detect = store.detect

    def detect_with_a_bug(entry, *args, **kwargs):  # type: ignore[no-untyped-def]
        if entry.title == "Trips the detector":
            raise RuntimeError("detector bug")
        return real_detect(entry, *args, **kwargs)

    monkeypatch.setattr(store, "detect", detect_with_a_bug)
    # When the batch is refreshed
    reports = refresh_sources(rt.sessions, ids, rt.settings)
    # Then the first feed is stored in full and the second is recorded as a store failure
    assert [r.status for r in reports] == ["ok", "failed"]
    assert reports[0].new_entries == 2 and "detector bug" in (reports[1].error or "")
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 2
        bad = session.get(Source, ids[1])
        assert bad.last_error_kind == "store" and bad.consecutive_failures == 1


def test_a_batch_records_each_outcome_and_every_304_on_its_own_source(rt: Runtime, http: LocalServer) -> None:
    # Given three feeds with ETags that were polled once, a fourth that now fails, and one held elsewhere
    body = b"<rss version='2.0'><channel><title>T</title><item><title>x</title><guid>1</guid></item></channel></rss>"
    for name in ("a", "b", "c", "d"):
        http.routes[f"/{name}"] = Reply(body=body, etag=f'"{name}-1"')
    with rt.sessions() as session, session.begin():
        ids = [add_source(session, http.url(f"/{name}"), SourceKind.FEED).id for name in ("a", "b", "c", "d")]
        held = add_source(session, http.url("/held"), SourceKind.FEED).id
    assert [r.status for r in refresh_sources(rt.sessions, ids, rt.settings)] == ["ok"] * 4
    http.routes["/d"] = Reply(status=500, body=b"oops")
    with rt.engine.begin() as connection:
        claim_many(connection, [held], dt.timedelta(minutes=5))
    http.requests.clear()
    # When the batch is polled again
    reports = refresh_sources(rt.sessions, [*ids, held], rt.settings)
    # Then the quiet ones are recorded as 304s with their own ETag and released, the failure is
    # recorded, and the held source is skipped without a request
    assert [r.status for r in reports] == ["not_modified"] * 3 + ["failed", "skipped"]
    assert len(http.requests) == 4
    with rt.sessions() as session:
        sources = {s.id: s for s in session.scalars(select(Source))}
    for source_id, name in zip(ids[:3], ("a", "b", "c"), strict=True):
        source = sources[source_id]
        assert source.etag == f'"{name}-1"' and source.claimed_until is None
        assert source.last_success_at is not None and source.next_poll_at > source.last_success_at
    assert sources[ids[3]].consecutive_failures == 1 and sources[ids[3]].last_error_status == 500
    assert sources[held].claimed_until is not None and sources[held].last_polled_at is None


FEED = b"<rss version='2.0'><channel><title>T</title><item><title>x</title><guid>1</guid></item></channel></rss>"
FEED_WITH_NEWS = FEED.replace(b"</channel>", b"<item><title>y</title><guid>2</guid></item></channel>")


def _feeds_polled_once(rt: Runtime, http: LocalServer, *paths: str) -> list[int]:
    """A source for each path, serving FEED with an ETag, polled once; their ids, in order."""
    for path in paths:
        http.routes[path] = Reply(body=FEED, etag='"1"')
    with rt.sessions() as session, session.begin():
        ids = [add_source(session, http.url(path), SourceKind.FEED).id for path in paths]
    assert [r.status for r in refresh_sources(rt.sessions, ids, rt.settings)] == ["ok"] * len(paths)
    return ids


def _answer_again(http: LocalServer, answer: str, *paths: str) -> str:
    """Make ``paths`` answer the next poll with a 304 or with news; the status that poll reports."""
    if answer == "200":
        for path in paths:
            http.routes[path] = Reply(body=FEED_WITH_NEWS)
    return "not_modified" if answer == "304" else "ok"


@pytest.mark.parametrize("answer", ["304", "200"])
def test_a_source_moved_onto_a_url_another_source_watches_is_disabled_and_its_batch_is_recorded(
        any_runtime: Runtime, http: LocalServer, answer: str) -> None:
    rt = any_runtime
    # Given two aliases of one feed watched as two sources, and two other feeds, all polled once
    ids = _feeds_polled_once(rt, http, "/feed", "/alias", "/other-1", "/other-2")
    # When the alias now redirects permanently to the feed, and the batch is polled again (each
    # feed answering 304, or with news)
    http.routes["/alias"] = Reply(301, headers={"Location": "/feed"})
    expected = _answer_again(http, answer, "/feed", "/other-1", "/other-2")
    reports = refresh_sources(rt.sessions, ids, rt.settings)
    # Then every poll is recorded as it went, without an error, and no source is left claimed
    assert [r.status for r in reports] == [expected] * 4
    with rt.sessions() as session:
        sources = [session.get(Source, source_id) for source_id in ids]
        disabled = session.execute(select(Event.payload).where(Event.type == "source.disabled")).scalars().all()
    for source in sources:
        assert source.claimed_until is None and source.last_error is None and source.consecutive_failures == 0
    # And the alias keeps its URL and entries, disabled with the reason and an event saying which
    # source watches its feed now; the others stay active where they were
    alias = sources[1]
    reason = f"now redirects to source {ids[0]}"
    assert (alias.url, alias.state, alias.state_reason) == (http.url("/alias"), "disabled", reason)
    assert disabled == [{"source_id": ids[1], "reason": reason}]
    assert [(s.url, s.state) for s in sources if s is not alias] == [
        (http.url(path), "active") for path in ("/feed", "/other-1", "/other-2")]
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Entry).where(Entry.source_id == ids[1])) >= 1
    # And a later poll leaves it alone
    assert refresh_source(rt.sessions, ids[1], rt.settings).status == "skipped"


class UniqueViolation(Exception):
    """Stands in for the database driver's exception (its message has a DETAIL line)."""


@pytest.mark.parametrize("answer", ["304", "200"])
def test_a_database_error_recording_one_poll_fails_that_source_alone_with_a_short_error(
        rt: Runtime, http: LocalServer, monkeypatch: pytest.MonkeyPatch, answer: str) -> None:
    # Given three feeds polled once, and a database that refuses to record the second one's next poll
    ids = _feeds_polled_once(rt, http, "/a", "/b", "/c")
    real = refresh.record_polls_succeeded

    def refusing_the_second(connection: Connection, polls: list[PollSuccess]) -> None:
        if any(poll.source_id == ids[1] for poll in polls):
            raise IntegrityError("UPDATE sources SET url=%(url)s WHERE sources.id = %(id)s", {"id": ids[1]},
                                 UniqueViolation('duplicate key value violates unique constraint "sources_url_key"'
                                                 "\nDETAIL:  Key (url)=(https://x.example.org/) already exists."))
        real(connection, polls)

    monkeypatch.setattr(refresh, "record_polls_succeeded", refusing_the_second)
    # When the batch is polled again (each feed answering 304, or with news)
    expected = _answer_again(http, answer, "/a", "/b", "/c")
    reports = refresh_sources(rt.sessions, ids, rt.settings)
    # Then the others are recorded as they went, the second as a store failure with the database's
    # message in one line and no SQL, and no source is left claimed
    assert [r.status for r in reports] == [expected, "failed", expected]
    with rt.sessions() as session:
        sources = [session.get(Source, source_id) for source_id in ids]
    assert [s.consecutive_failures for s in sources] == [0, 1, 0]
    assert all(s.claimed_until is None for s in sources)
    assert (sources[1].last_error_kind, sources[1].last_error) == (
        "store", 'UniqueViolation: duplicate key value violates unique constraint "sources_url_key"')
