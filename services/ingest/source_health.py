"""Source health: what a poll's outcome does to its source.

A poll that worked (new entries or a 304) resets the failure count, keeps the validators, follows a
permanent redirect and schedules the next poll by how often the source publishes: all of that is
written by ``record_polls_succeeded`` alone. A permanent redirect onto a URL another source already
watches disables the moved source instead (its entries stay), saying which source watches it now.
A poll that failed is recorded with its kind and backs the source off; too many failures in a row
pause it, and 410 Gone disables it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import String, bindparam, func, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from services.core import events, limits
from services.core.db.base import utcnow
from services.core.db.models import Source
from services.core.domain import SourceState
from services.ingest import schedule
from services.ingest.fetcher import FetchResult


class PollFailure(Exception):
    """Anything that made a poll fail: ``kind`` (a short category, e.g. ``throttled``, ``gone``,
    ``store``), the HTTP ``status`` if any, and the server's ``retry_after`` in seconds if it gave one."""

    def __init__(self, kind: str, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.kind, self.status, self.retry_after = kind, status, retry_after


class PollSuccess(NamedTuple):
    """A poll that worked: the source, the response to its own URL, its polling interval before this
    poll, and what the poll brought (publication dates and how many entries were new)."""

    source_id: int
    result: FetchResult
    interval_seconds: int
    published: Sequence[dt.datetime] = ()
    new_entries: int = 0


#: One successful poll, for databases without arrays (executemany).
_SUCCEEDED = (
    update(Source).where(Source.id == bindparam("b_id"))
    .values(last_polled_at=bindparam("b_now"), last_success_at=bindparam("b_now"), consecutive_failures=0,
            last_error=None, last_error_kind=None, last_error_status=None, claimed_until=None,
            poll_interval_seconds=bindparam("b_interval"), next_poll_at=bindparam("b_next"),
            etag=func.coalesce(bindparam("b_etag", type_=String), Source.etag),
            last_modified=func.coalesce(bindparam("b_last_modified", type_=String), Source.last_modified),
            url=func.coalesce(bindparam("b_url", type_=String), Source.url))
    .execution_options(synchronize_session=False)
)

#: The same UPDATE for every successful poll of a batch in one statement, its rows handed over as arrays.
_SUCCEEDED_ON_POSTGRESQL = text("""
UPDATE sources SET last_polled_at = :now, last_success_at = :now, consecutive_failures = 0,
       last_error = NULL, last_error_kind = NULL, last_error_status = NULL, claimed_until = NULL,
       poll_interval_seconds = q.seconds, next_poll_at = :now + make_interval(secs => q.seconds),
       etag = coalesce(q.etag, sources.etag), last_modified = coalesce(q.last_modified, sources.last_modified),
       url = coalesce(q.url, sources.url)
FROM unnest(CAST(:ids AS integer[]), CAST(:seconds AS integer[]), CAST(:etags AS text[]),
            CAST(:last_modifieds AS text[]), CAST(:urls AS text[])) AS q(id, seconds, etag, last_modified, url)
WHERE sources.id = q.id
""")


def record_polls_succeeded(connection: Connection, polls: Sequence[PollSuccess]) -> None:
    """Record successful polls on their sources, in the caller's transaction, no row loaded.

    Each source gets: polled and succeeded now, no failures or error, its claim released, the
    response's validators and permanent URL (where it sent them; otherwise the stored ones stay),
    and its next interval (``schedule.next_interval``) and next poll time. On PostgreSQL one UPDATE
    over arrays, elsewhere one executemany UPDATE; a source that no longer exists is passed over.

    A permanent URL that another source already watches (an http→https move onto a URL added on
    its own, two aliases of one feed), or that an earlier poll of the batch moved to, is not taken:
    the moved source keeps its URL and entries and is disabled with the reason "now redirects to
    source N" and a ``source.disabled`` event, so the feed is polled once, by source N. Database
    errors propagate (e.g. when another worker takes the same URL at the same moment: recorded
    again on its own, the move then finds that source watching it).
    """
    if not polls:
        return
    now = utcnow()
    intervals = [schedule.next_interval(poll.interval_seconds, poll.published, poll.new_entries) for poll in polls]
    # An empty header is no validator: keep the stored one, as for a missing header.
    etags = [poll.result.etag or None for poll in polls]
    last_modifieds = [poll.result.last_modified or None for poll in polls]
    urls = [poll.result.permanent_url or None for poll in polls]
    watched = _watched_elsewhere(connection, polls, urls) if any(urls) else {}
    urls = [None if poll.source_id in watched else url for poll, url in zip(polls, urls, strict=True)]
    if connection.dialect.name == "postgresql":
        connection.execute(_SUCCEEDED_ON_POSTGRESQL, {
            "now": now, "ids": [poll.source_id for poll in polls], "seconds": intervals, "etags": etags,
            "last_modifieds": last_modifieds, "urls": urls})
    else:
        rows = zip(polls, intervals, etags, last_modifieds, urls, strict=True)
        connection.execute(_SUCCEEDED, [
            {"b_id": poll.source_id, "b_now": now, "b_interval": interval,
             "b_next": now + dt.timedelta(seconds=interval), "b_etag": etag, "b_last_modified": last_modified,
             "b_url": url}
            for poll, interval, etag, last_modified, url in rows])
    if watched:
        _disable_moved(connection, watched)


def _watched_elsewhere(connection: Connection, polls: Sequence[PollSuccess],
                       urls: Sequence[str | None]) -> dict[int, int]:
    """The polls (with ``urls``, their permanent URLs) that moved onto a URL another source watches
    or an earlier poll of the batch moved to: each one's source id → the id of that source."""
    holders: dict[str, int] = dict(connection.execute(
        select(Source.url, Source.id).where(Source.url.in_({url for url in urls if url}))).all())
    watched: dict[int, int] = {}
    for poll, url in zip(polls, urls, strict=True):
        if url is not None and (holder := holders.setdefault(url, poll.source_id)) != poll.source_id:
            watched[poll.source_id] = holder
    return watched


def _disable_moved(connection: Connection, watched: dict[int, int]) -> None:
    """Disable each moved source (those deleted meanwhile are passed over), saying which source
    watches its new URL, with a ``source.disabled`` event; in the connection's transaction."""
    with Session(connection) as session:
        for source_id, holder in watched.items():
            source = session.get(Source, source_id)
            if source is None:
                continue
            source.state = SourceState.DISABLED
            source.state_reason = f"now redirects to source {holder}"
            events.record(session, "source.disabled", source_id=source_id, reason=source.state_reason)
        session.flush()


def record_poll_failed(session: Session, source_id: int, failure: PollFailure) -> None:
    """Record a failed poll on its source, in the caller's transaction (nothing when it no longer exists).

    The error, its kind and status are kept, the failure count grows, the claim is released and the
    next poll backs off (``schedule.failure_delay``: never before the server's Retry-After, but a
    Retry-After beyond ``schedule.MAX_INTERVAL`` counts as that). 410 Gone disables the source and ``PAUSE_AFTER_FAILURES`` failures in a row pause it, each with the reason
    and a ``source.disabled`` or ``source.paused`` event.
    """
    source = session.get(Source, source_id)
    if source is None:
        return
    now = utcnow()
    source.last_polled_at = now
    source.last_error = limits.clip(str(failure), limits.ERROR_TEXT)
    source.last_error_kind = failure.kind
    source.last_error_status = failure.status
    source.last_error_at = now
    source.consecutive_failures += 1
    source.claimed_until = None
    delay = schedule.failure_delay(source.consecutive_failures, failure.retry_after)
    source.next_poll_at = now + dt.timedelta(seconds=delay)
    if failure.kind == "gone":
        source.state = SourceState.DISABLED
        source.state_reason = str(failure)
        events.record(session, "source.disabled", source_id=source_id, reason=str(failure))
    elif source.consecutive_failures >= schedule.PAUSE_AFTER_FAILURES:
        source.state = SourceState.PAUSED
        source.state_reason = f"paused after {source.consecutive_failures} failures in a row: {failure}"
        events.record(session, "source.paused", source_id=source_id, reason=source.state_reason)
