"""Thin actors over ingest's refresh step."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select

from services.core import runtime
from services.core.broker import actor
from services.core.db.models import Source
from services.ingest.claims import BATCH_TIME_LIMIT
from services.ingest.politeness import host_limiter, host_of
from services.ingest.refresh import refresh_source, refresh_sources
from services.ingest.sources import claim_due

#: When a host already has its share of polls running, try again in this many milliseconds.
BUSY_HOST_DELAY_MS = (5_000, 20_000)
#: Due sources of one host are polled this many to a message: a message, its middleware and a
#: claim cost more than the conditional GET of a quiet feed.
BATCH_SIZE = 50


@actor("ingest", max_retries=0, time_limit=15 * 60 * 1000)
def poll_source(source_id: int, host: str | None = None) -> None:
    """Poll one source, if its host has a free slot; ``host`` saves a lookup when the sender knows it."""
    rt = runtime.current()
    if host is None:
        with rt.sessions() as session:
            source = session.get(Source, source_id)
            if source is None:
                return
            host = host_of(source.url)
    with host_limiter(rt.settings, host).acquire(raise_on_failure=False) as acquired:
        if not acquired:
            poll_source.send_with_options(args=(source_id, host), delay=random.randint(*BUSY_HOST_DELAY_MS))
            return
        refresh_source(rt.sessions, source_id, rt.settings)


@actor("ingest", max_retries=0, time_limit=int(BATCH_TIME_LIMIT.total_seconds() * 1000))
def poll_sources(source_ids: list[int], host: str) -> None:
    """Poll a batch of one host's sources in turn, holding one of the host's slots meanwhile."""
    rt = runtime.current()
    with host_limiter(rt.settings, host).acquire(raise_on_failure=False) as acquired:
        if not acquired:
            poll_sources.send_with_options(args=(source_ids, host), delay=random.randint(*BUSY_HOST_DELAY_MS))
            return
        refresh_sources(rt.sessions, source_ids, rt.settings)


def send_polls(due: Iterable[tuple[int, str]]) -> int:
    """Send (source id, host) pairs as batches of one host's sources; returns how many messages."""
    by_host: dict[str, list[int]] = defaultdict(list)
    for source_id, host in due:
        by_host[host].append(source_id)
    messages = 0
    for host, ids in by_host.items():
        for start in range(0, len(ids), BATCH_SIZE):
            poll_sources.send(ids[start:start + BATCH_SIZE], host)
            messages += 1
    return messages


def enqueue_due_sources() -> int:
    """The scheduler's poll tick: claim the due sources and send them in batches per host."""
    rt = runtime.current()
    with rt.sessions() as session, session.begin():
        due = claim_due(session)
        urls = dict(session.execute(select(Source.id, Source.url).where(Source.id.in_(due))).all()) if due else {}
    send_polls((source_id, host_of(urls[source_id])) for source_id in due)
    return len(due)
