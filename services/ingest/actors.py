"""Thin actors over the ingest pipeline."""

from __future__ import annotations

import random

from services.core import runtime
from services.core.broker import actor
from services.core.db.models import Source
from services.ingest.pipeline import refresh_source
from services.ingest.politeness import host_limiter
from services.ingest.sources import claim_due

#: When a host already has its share of polls running, try again in this many milliseconds.
BUSY_HOST_DELAY_MS = (5_000, 20_000)


@actor("ingest", max_retries=0, time_limit=15 * 60 * 1000)
def poll_source(source_id: int) -> None:
    rt = runtime.current()
    with rt.sessions() as session:
        source = session.get(Source, source_id)
        url = source.url if source is not None else None
    if url is None:
        return
    with host_limiter(rt.settings, url).acquire(raise_on_failure=False) as acquired:
        if not acquired:
            poll_source.send_with_options(args=(source_id,), delay=random.randint(*BUSY_HOST_DELAY_MS))
            return
        refresh_source(rt.sessions, source_id, rt.settings)


def enqueue_due_sources() -> int:
    """The scheduler's poll tick: claim the due sources, one message each."""
    rt = runtime.current()
    with rt.sessions() as session, session.begin():
        due = claim_due(session)
    for source_id in due:
        poll_source.send(source_id)
    return len(due)
