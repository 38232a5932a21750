"""Scheduling: adaptive intervals, backoff with jitter, safe claims with many workers, per-host limits."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest
from sqlalchemy import select

from services.core.db.base import utcnow
from services.core.db.models import Source
from services.core.domain import SourceKind
from services.core.runtime import Runtime
from services.ingest import schedule
from services.ingest.fetcher import FetchPolicy
from services.ingest.pipeline import BATCH_TIME_LIMIT, claim, claim_many, lease_for, refresh_source, refresh_sources
from services.ingest.politeness import PER_HOST_LIMIT, host_limiter
from services.ingest.sources import add_source, claim_due
from tests.local_http import LocalServer, Reply

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


def test_a_source_that_publishes_hourly_is_polled_about_every_half_hour() -> None:
    hourly = [NOW - dt.timedelta(hours=h) for h in range(10)]
    assert schedule.next_interval(3600, hourly, new_entries=1) == 1800


def test_a_quiet_source_drifts_toward_a_day_but_never_past_it() -> None:
    monthly = [NOW - dt.timedelta(days=30 * m) for m in range(5)]
    interval = 3600
    for _ in range(20):
        interval = schedule.next_interval(interval, monthly, new_entries=0)
    assert interval == schedule.MAX_INTERVAL


def test_a_busy_source_is_not_polled_more_than_every_five_minutes() -> None:
    minutely = [NOW - dt.timedelta(minutes=m) for m in range(20)]
    assert schedule.next_interval(600, minutely, new_entries=5) == schedule.MIN_INTERVAL


def test_without_dates_news_halves_the_interval_and_silence_stretches_it() -> None:
    assert schedule.next_interval(3600, [], new_entries=2) == 1800
    assert schedule.next_interval(3600, [], new_entries=0) == 5400


def test_failures_back_off_exponentially_with_jitter_and_honour_retry_after() -> None:
    rng = random.Random(7)
    delays = [schedule.failure_delay(n, None, rng) for n in (1, 2, 3, 4)]
    for earlier, later in zip(delays, delays[1:]):
        assert later > earlier
    assert 0.8 * 300 <= delays[0] <= 1.2 * 300
    assert schedule.failure_delay(1, 7200, rng) >= 7200
    assert schedule.failure_delay(50, None, rng) <= 1.2 * schedule.MAX_INTERVAL


def test_two_schedulers_claiming_at_once_never_take_the_same_source(rt: Runtime) -> None:
    # Given 40 due sources
    with rt.sessions() as session, session.begin():
        for n in range(40):
            add_source(session, f"https://feeds{n}.example.org/rss", SourceKind.FEED).next_poll_at = utcnow()
    # When four ticks claim concurrently (each in its own transaction on PostgreSQL)
    taken: list[list[int]] = []
    barrier = threading.Barrier(4)

    def tick() -> None:
        barrier.wait()
        with rt.sessions() as session, session.begin():
            taken.append(claim_due(session, limit=15))

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every source was claimed exactly once, and none is due any more
    flat = [source_id for batch in taken for source_id in batch]
    assert len(flat) == len(set(flat)) == 40
    with rt.sessions() as session, session.begin():
        assert claim_due(session) == []


def test_a_source_being_polled_is_skipped_by_a_second_worker(rt: Runtime, http: LocalServer) -> None:
    # Given a source one worker has claimed
    http.routes["/f"] = Reply(body=b"<rss version='2.0'><channel><title>t</title></channel></rss>")
    with rt.sessions() as session, session.begin():
        source_id = add_source(session, http.url("/f"), SourceKind.FEED).id
    with rt.sessions() as session, session.begin():
        assert claim(session, source_id, dt.timedelta(minutes=5)) is not None
    # When another worker tries to refresh it, Then it skips without fetching
    assert refresh_source(rt.sessions, source_id, rt.settings).status == "skipped"
    assert http.requests == []


def test_a_batch_holds_its_claims_for_its_sources_worst_case_but_never_past_its_time_limit() -> None:
    # Given the default fetch policy (20 s timeouts, up to five redirects)
    policy = FetchPolicy()
    one = lease_for(policy, 1)
    # Then one source is held for every hop's timeout plus slack, a few sources proportionally more,
    # and a large batch only as long as a batch may run (a dead worker's sources come free then)
    assert one == dt.timedelta(seconds=20 * 11 + 60) and lease_for(policy, 3) == 3 * one
    assert lease_for(policy, 50) == BATCH_TIME_LIMIT + dt.timedelta(seconds=60)


def test_the_per_host_limit_is_shared_through_redis(rt: Runtime, redis_required: None) -> None:
    # Given the limiter for one host, on Redis
    settings = rt.settings
    assert settings.redis_url is not None
    url = "https://busy.example.org/feed"
    # When the limit's worth of slots are held, Then one more is refused until one is released
    contexts = [host_limiter(settings, url).acquire(raise_on_failure=False) for _ in range(PER_HOST_LIMIT)]
    held = [context.__enter__() for context in contexts]
    assert all(held)
    with host_limiter(settings, url).acquire(raise_on_failure=False) as extra:
        assert extra is False
    with host_limiter(settings, "https://quiet.example.org/feed").acquire(raise_on_failure=False) as other:
        assert other is True
    contexts[0].__exit__(None, None, None)
    with host_limiter(settings, url).acquire(raise_on_failure=False) as again:
        assert again is True
    contexts[1].__exit__(None, None, None)


def test_a_slot_given_back_twice_frees_no_more_than_the_limit(rt: Runtime, redis_required: None) -> None:
    # Given one host's slots all taken and given back, and then given back once more
    settings = rt.settings
    url = "https://twice.example.org/feed"
    limiter = host_limiter(settings, url)
    for _ in range(2):
        contexts = [limiter.acquire(raise_on_failure=False) for _ in range(PER_HOST_LIMIT)]
        assert all(context.__enter__() for context in contexts)
        for context in contexts:
            context.__exit__(None, None, None)
    assert limiter.backend.decr(limiter.key, 1, minimum=0, ttl=1000) is False
    # When the slots are taken again, Then the limit's worth are granted, and not one more
    contexts = [limiter.acquire(raise_on_failure=False) for _ in range(PER_HOST_LIMIT + 1)]
    assert [context.__enter__() for context in contexts] == [True] * PER_HOST_LIMIT + [False]
    for context in contexts:
        context.__exit__(None, None, None)


def test_the_tick_enqueues_due_sources_and_the_worker_polls_them(rt: Runtime, http: LocalServer,
                                                                 redis_required: None) -> None:
    from dramatiq import Worker

    from services.core import broker
    from services.ingest.actors import enqueue_due_sources

    # Given two due sources
    http.routes["/a"] = Reply(body=b"<rss version='2.0'><channel><title>A</title><item><title>x</title>"
                                   b"<guid>1</guid></item></channel></rss>")
    http.routes["/b"] = Reply(body=http.routes["/a"].body.replace(b">A<", b">B<"))
    with rt.sessions() as session, session.begin():
        for path in ("/a", "/b"):
            add_source(session, http.url(path), SourceKind.FEED)
    # When the tick runs and a real worker drains the ingest queue
    assert enqueue_due_sources() == 2
    worker = Worker(broker.current(), queues={"ingest"}, worker_threads=2)
    worker.start()
    try:
        broker.current().join("ingest", timeout=30_000)
    finally:
        worker.stop()
    # Then both were polled and rescheduled in the future
    with rt.sessions() as session:
        sources = session.scalars(select(Source)).all()
        assert {s.title for s in sources} == {"A", "B"}
        assert all(s.last_success_at and s.next_poll_at > s.last_success_at for s in sources)


def test_workers_claiming_overlapping_batches_at_once_never_take_the_same_source(rt: Runtime) -> None:
    # Given 30 active sources
    with rt.sessions() as session, session.begin():
        ids = [add_source(session, f"https://batch{n}.example.org/rss", SourceKind.FEED).id for n in range(30)]
    # When four workers claim overlapping batches of them at the same moment
    taken: list[list[int]] = []
    barrier = threading.Barrier(4)

    def work(batch: list[int]) -> None:
        barrier.wait()
        with rt.engine.begin() as connection:
            taken.append(list(claim_many(connection, batch, dt.timedelta(minutes=5))))

    batches = [ids[0:20], ids[10:30], ids[5:25], ids]
    threads = [threading.Thread(target=work, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then each source went to exactly one of them
    flat = [source_id for batch in taken for source_id in batch]
    assert sorted(flat) == sorted(ids)


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


def test_the_tick_sends_one_message_per_batch_of_one_hosts_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.ingest import actors

    # Given two batches and a half of due sources on host a and 3 on host b, and the messages the
    # tick sends recorded
    on_a = actors.BATCH_SIZE * 5 // 2
    due = [(n, "a.example.org") for n in range(on_a)] + [(1000 + n, "b.example.org") for n in range(3)]
    sent: list[tuple[list[int], str]] = []
    monkeypatch.setattr(actors.poll_sources, "send", lambda ids, host: sent.append((ids, host)))
    # When the tick sends them
    count = actors.send_polls(due)
    # Then each message holds at most BATCH_SIZE sources of a single host, and every source is sent once
    assert count == len(sent) == 3 + 1
    assert all(len(ids) <= actors.BATCH_SIZE for ids, _ in sent)
    assert sorted(n for ids, _ in sent for n in ids) == sorted(n for n, _ in due)
    assert all({host} == {h for n, h in due if n in ids} for ids, host in sent)
