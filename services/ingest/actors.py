"""Thin actors over the ingest pipeline."""

from __future__ import annotations

import random

from sqlalchemy import select

from services.core import runtime
from services.core.broker import actor
from services.core.db.models import Source
from services.ingest.pipeline import refresh_source
from services.ingest.politeness import host_limiter, host_of
from services.ingest.sources import claim_due

#: When a host already has its share of polls running, try again in this many milliseconds.
BUSY_HOST_DELAY_MS = (5_000, 20_000)


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


def enqueue_due_sources() -> int:
    """The scheduler's poll tick: claim the due sources, one message each (with its host)."""
    rt = runtime.current()
    with rt.sessions() as session, session.begin():
        due = claim_due(session)
        urls = dict(session.execute(select(Source.id, Source.url).where(Source.id.in_(due))).all()) if due else {}
    for source_id in due:
        poll_source.send(source_id, host_of(urls[source_id]))
    return len(due)
