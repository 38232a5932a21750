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


def test_a_retry_after_beyond_the_longest_interval_waits_the_longest_interval() -> None:
    # Given a first failure, whose own backoff is about five minutes
    rng = random.Random(7)
    # When the server asks for two days, or for 1e20 seconds
    delays = [schedule.failure_delay(1, retry_after, rng) for retry_after in (2 * schedule.MAX_INTERVAL, 1e20)]
    # Then the source is asked again after the longest polling interval
    assert delays == [schedule.MAX_INTERVAL, schedule.MAX_INTERVAL]


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
