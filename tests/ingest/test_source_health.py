"""Source health: every successful poll is recorded the same way, failures back off, pause or disable."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from services.core.db.base import utcnow
from services.core.db.models import Source
from services.core.domain import SourceKind, SourceState
from services.core.runtime import Runtime
from services.ingest import schedule
from services.ingest.fetcher import FetchResult
from services.ingest.refresh import refresh_source
from services.ingest.source_health import PollSuccess, record_polls_succeeded
from services.ingest.sources import add_source, due_source_ids, source_rows
from tests.ingest.samples import RELEASES, releases_source
from tests.local_http import LocalServer, Reply

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


def _failing_source(rt: Runtime, url: str) -> int:
    """A source that failed three times in a row and is still claimed, with validators from before."""
    with rt.sessions() as session, session.begin():
        source = add_source(session, url, SourceKind.FEED)
        source.etag, source.last_modified, source.poll_interval_seconds = '"old"', "old-date", 3600
        source.consecutive_failures, source.claimed_until = 3, utcnow() + dt.timedelta(minutes=5)
        source.last_error, source.last_error_kind, source.last_error_status = "HTTP 503", "throttled", 503
        session.flush()
        return source.id


def test_a_successful_poll_resets_the_failures_keeps_validators_and_schedules_by_what_it_brought(
        any_runtime: Runtime) -> None:
    rt = any_runtime
    # Given two failing sources, one that now answered with new validators, a permanent redirect and
    # hourly entries, and one that answered 304 with an empty ETag; and a source deleted meanwhile
    fresh = _failing_source(rt, "https://fresh.example.org/feed")
    quiet = _failing_source(rt, "https://quiet.example.org/feed")
    deleted = _failing_source(rt, "https://deleted.example.org/feed")
    with rt.sessions() as session, session.begin():
        session.delete(session.get(Source, deleted))
    hourly = [NOW - dt.timedelta(hours=h) for h in range(10)]
    moved = FetchResult(url="https://fresh.example.org/feed", status=200, etag='"new"', last_modified="new-date",
                        permanent_url="https://moved.example.org/feed")
    not_modified = FetchResult(url="https://quiet.example.org/feed", status=304, etag="")
    # When the polls are recorded as succeeded
    with rt.engine.begin() as connection:
        record_polls_succeeded(connection, [PollSuccess(fresh, moved, 3600, hourly, new_entries=1),
                                            PollSuccess(quiet, not_modified, 3600),
                                            PollSuccess(deleted, not_modified, 3600)])
    # Then both are healthy and released, the first follows the redirect and takes the new validators,
    # the second keeps its own, and each is scheduled by the interval its poll asks for
    with rt.sessions() as session:
        sources = {s.id: s for s in session.scalars(select(Source))}
    assert sorted(sources) == sorted([fresh, quiet])
    for source in sources.values():
        assert source.consecutive_failures == 0 and source.claimed_until is None
        assert (source.last_error, source.last_error_kind, source.last_error_status) == (None, None, None)
        assert source.last_success_at is not None and source.last_polled_at == source.last_success_at
        assert source.next_poll_at == source.last_success_at + dt.timedelta(seconds=source.poll_interval_seconds)
    assert (sources[fresh].url, sources[fresh].etag, sources[fresh].last_modified) == (
        "https://moved.example.org/feed", '"new"', "new-date")
    assert sources[fresh].poll_interval_seconds == schedule.next_interval(3600, hourly, 1) == 1800
    assert (sources[quiet].url, sources[quiet].etag, sources[quiet].last_modified) == (
        "https://quiet.example.org/feed", '"old"', "old-date")
    assert sources[quiet].poll_interval_seconds == schedule.next_interval(3600, [], 0) == 5400


def test_of_sources_moving_onto_one_url_only_the_first_takes_it_unless_another_source_watches_it(
        any_runtime: Runtime) -> None:
    rt = any_runtime
    # Given a source watching a feed, and four sources whose polls say they moved for good: two onto
    # that feed's URL, two onto one URL nobody watches
    watching, onto_watched, onto_watched_too, first, second = (
        _failing_source(rt, f"https://{name}.example.org/feed")
        for name in ("watching", "alias", "alias-too", "first", "second"))

    def moved(source_id: int, url: str) -> PollSuccess:
        return PollSuccess(source_id, FetchResult(url=url, status=304, permanent_url=url), 3600)

    # When the polls are recorded together
    with rt.engine.begin() as connection:
        record_polls_succeeded(connection, [moved(onto_watched, "https://watching.example.org/feed"),
                                            moved(first, "https://new.example.org/feed"),
                                            moved(onto_watched_too, "https://watching.example.org/feed"),
                                            moved(second, "https://new.example.org/feed")])
    # Then the first onto the new URL takes it; each other keeps its URL and is disabled, saying
    # which source watches its feed; all are recorded as succeeded and released
    with rt.sessions() as session:
        sources = {s.id: s for s in session.scalars(select(Source))}
    assert {source_id: (s.url, s.state, s.state_reason) for source_id, s in sources.items()} == {
        watching: ("https://watching.example.org/feed", "active", None),
        onto_watched: ("https://alias.example.org/feed", "disabled", f"now redirects to source {watching}"),
        onto_watched_too: ("https://alias-too.example.org/feed", "disabled", f"now redirects to source {watching}"),
        first: ("https://new.example.org/feed", "active", None),
        second: ("https://second.example.org/feed", "disabled", f"now redirects to source {first}"),
    }
    for source_id in (onto_watched, onto_watched_too, first, second):
        assert sources[source_id].consecutive_failures == 0 and sources[source_id].claimed_until is None


def test_a_poll_that_works_clears_the_failure_whether_it_stores_entries_or_answers_304(
        rt: Runtime, http: LocalServer) -> None:
    # Given a releases source that fails, then works, then fails again, then answers 304
    source_id = releases_source(rt, http.url("/releases.atom"))
    outcomes = []
    for reply, expected in ((Reply(500, b"oops"), "failed"), (Reply(body=RELEASES, etag='"r1"'), "ok"),
                            (Reply(500, b"oops"), "failed"), (Reply(body=RELEASES, etag='"r1"'), "not_modified")):
        http.routes["/releases.atom"] = reply
        # When it is refreshed
        report = refresh_source(rt.sessions, source_id, rt.settings)
        with rt.sessions() as session:
            source = session.get(Source, source_id)
            outcomes.append((report.status, source.consecutive_failures, source.last_error_kind,
                             source.last_error_status))
    # Then each failure was counted, and each poll that worked cleared it, stored entries or not
    assert outcomes == [("failed", 1, "http_status", 500), ("ok", 0, None, None),
                        ("failed", 1, "http_status", 500), ("not_modified", 0, None, None)]


def test_a_broken_feed_is_recorded_on_its_source_and_backs_off(rt: Runtime, http: LocalServer) -> None:
    # Given a source that answers with an HTML page
    http.routes["/broken"] = Reply(body=b"<html><body>maintenance</body></html>")
    source_id = releases_source(rt, http.url("/broken"))
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
    source_id = releases_source(rt, http.url("/down"))
    for _ in range(schedule.PAUSE_AFTER_FAILURES):
        refresh_source(rt.sessions, source_id, rt.settings)
    with rt.sessions() as session:
        source = session.get(Source, source_id)
        assert source.state == SourceState.PAUSED.value
        assert "failures in a row" in (source.state_reason or "")


def test_gone_disables_the_source(rt: Runtime, http: LocalServer) -> None:
    http.routes["/gone"] = Reply(410, b"")
    source_id = releases_source(rt, http.url("/gone"))
    refresh_source(rt.sessions, source_id, rt.settings)
    with rt.sessions() as session:
        assert session.get(Source, source_id).state == SourceState.DISABLED.value
