"""Claims: a source is polled by one worker at a time, and a dead worker's claims lapse."""

from __future__ import annotations

import datetime as dt
import threading

from services.core.domain import SourceKind
from services.core.runtime import Runtime
from services.ingest.claims import BATCH_TIME_LIMIT, claim, claim_many, lease_for
from services.ingest.fetcher import FetchPolicy
from services.ingest.refresh import refresh_source
from services.ingest.sources import add_source
from tests.local_http import LocalServer, Reply


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
