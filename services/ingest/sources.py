"""Managing sources: add (with feed discovery), seed the catalog, list, pause, resume; and which
are due for a poll, claimed safely when several schedulers or workers run."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.core.db.base import utcnow
from services.core.db.models import Entry, Source
from services.core.domain import SourceKind, SourceState
from services.ingest.adapters import SourceUrlError, adapter_for
from services.ingest.catalog import default_catalog
from services.ingest.discovery import discover_feeds, looks_like_html
from services.ingest.fetcher import FetchError, FetchPolicy, fetch

#: How long a source the tick enqueued stays out of the next ticks (the worker reschedules it sooner).
ENQUEUE_LEASE = dt.timedelta(minutes=15)


class SourceError(ValueError):
    """A source request that cannot be honoured (unknown id, duplicate URL, bad kind or URL)."""


def add_source(session: Session, url: str, kind: SourceKind = SourceKind.FEED, title: str | None = None) -> Source:
    try:
        url = adapter_for(kind).check_url(url)
    except SourceUrlError as exc:
        raise SourceError(str(exc)) from exc
    if session.scalar(select(Source).where(Source.url == url)) is not None:
        raise SourceError(f"already watching {url}")
    source = Source(url=url, kind=kind.value, title=title, next_poll_at=utcnow())
    session.add(source)
    session.flush()
    return source


def feed_behind(url: str, kind: SourceKind, policy: FetchPolicy) -> tuple[str, SourceKind, str | None]:
    """For a plain feed URL that turns out to be a web page, the feed the page announces.

    Returns (url, kind, warning): a URL that cannot be read now is kept as given, with a warning
    (the poller will record its errors), but a page that announces no feed is refused.
    """
    if kind is not SourceKind.FEED:
        return url, kind, None
    try:
        result = fetch(url, policy)
    except FetchError as exc:
        return url, kind, f"could not read it now ({exc.kind}: {exc}); added as given"
    if not looks_like_html(result.body):
        return result.permanent_url or url, kind, None
    feeds = discover_feeds(result.body, result.url)
    if not feeds:
        raise SourceError(f"{url} is a web page that announces no feed (no <link rel=\"alternate\">)")
    found, found_kind = feeds[0]
    return found, found_kind, None


def seed_catalog(session: Session) -> list[Source]:
    """Add every source of the default catalog not watched yet; returns the ones added."""
    watched = set(session.scalars(select(Source.url)))
    added = []
    for url, kind, title in default_catalog():
        if url not in watched:
            added.append(add_source(session, url, kind, title))
    return added


def get_source(session: Session, source_id: int) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise SourceError(f"no source with id {source_id}")
    return source


def set_state(session: Session, source_id: int, state: SourceState, reason: str | None = None) -> Source:
    source = get_source(session, source_id)
    source.state = state.value
    source.state_reason = reason
    if state is SourceState.ACTIVE:
        source.consecutive_failures = 0
        source.next_poll_at = utcnow()
        source.claimed_until = None
    return source


def poll_soon(session: Session, source_id: int) -> Source:
    """"Poll now" from the UI: due at once (a paused source stays paused)."""
    source = get_source(session, source_id)
    source.next_poll_at = utcnow()
    return source


def due_source_ids(session: Session, now: dt.datetime | None = None, *, every: bool = False) -> list[int]:
    query = select(Source.id).where(Source.state == SourceState.ACTIVE.value)
    if not every:
        query = query.where(Source.next_poll_at <= (now or utcnow()))
    return list(session.scalars(query.order_by(Source.next_poll_at, Source.id)))


def claim_due(session: Session, limit: int = 500, now: dt.datetime | None = None) -> list[int]:
    """Take the due sources for enqueueing and push their next poll past the lease.

    On PostgreSQL the rows are locked with ``FOR UPDATE SKIP LOCKED``, so two schedulers running
    the tick at once split the due sources instead of both enqueueing them. SQLite (one process)
    serialises writers anyway.
    """
    now = now or utcnow()
    query = (select(Source.id).where(Source.state == SourceState.ACTIVE.value, Source.next_poll_at <= now)
             .order_by(Source.next_poll_at, Source.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        session.execute(update(Source).where(Source.id.in_(ids)).values(next_poll_at=now + ENQUEUE_LEASE)
                        .execution_options(synchronize_session=False))
    return ids


def source_rows(session: Session) -> list[dict[str, object]]:
    """Every source with its state and entry count, as plain values (CLI JSON and pages)."""
    counts = dict(session.execute(select(Entry.source_id, func.count()).group_by(Entry.source_id)).all())
    rows = []
    for source in session.scalars(select(Source).order_by(Source.id)):
        rows.append(
            {
                "id": source.id,
                "url": source.url,
                "kind": source.kind,
                "title": source.title,
                "state": source.state,
                "state_reason": source.state_reason,
                "entries": counts.get(source.id, 0),
                "last_polled_at": _iso(source.last_polled_at),
                "last_success_at": _iso(source.last_success_at),
                "last_error": source.last_error,
                "last_error_kind": source.last_error_kind,
                "last_error_status": source.last_error_status,
                "last_error_at": _iso(source.last_error_at),
                "parse_warning": source.parse_warning,
                "consecutive_failures": source.consecutive_failures,
                "poll_interval_seconds": source.poll_interval_seconds,
                "next_poll_at": _iso(source.next_poll_at),
            }
        )
    return rows


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
