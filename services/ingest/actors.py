"""Thin actors over the ingest pipeline."""

from __future__ import annotations

from services.core import runtime
from services.core.broker import actor
from services.ingest.pipeline import refresh_source
from services.ingest.sources import due_source_ids


@actor("ingest", max_retries=0, time_limit=120_000)
def poll_source(source_id: int) -> None:
    rt = runtime.current()
    refresh_source(rt.sessions, source_id, rt.settings)


def enqueue_due_sources() -> int:
    """The scheduler's poll tick: one message per due source."""
    rt = runtime.current()
    with rt.sessions() as session:
        due = due_source_ids(session)
    for source_id in due:
        poll_source.send(source_id)
    return len(due)
