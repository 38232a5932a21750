"""Managing sources: add (with feed discovery), seed the catalog, list, pause, resume; and which
are due for a poll, claimed safely when several schedulers or workers run."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.core.db.base import utcnow
from services.core.db.models import Entry, Source
from services.core.domain import SourceKind, SourceState
from services.ingest.adapters import SourceView, adapter_for
from services.ingest.catalog import default_catalog
from services.ingest.discovery import discover_feeds
from services.ingest.errors import SourceError, SourceNotFound
from services.ingest.fetcher import FetchError, FetchPolicy, FetchResult, fetch
from services.ingest.hub import DEFAULT_ENDPOINT as DEFAULT_HUB_ENDPOINT
from services.ingest.parser import ParseError

#: How long a source the tick enqueued stays out of the next ticks (the worker reschedules it sooner).
ENQUEUE_LEASE = dt.timedelta(minutes=15)
#: FetchError kinds of the SSRF guard: an address or scheme the fetcher will never reach.
FORBIDDEN = frozenset({"forbidden_address", "forbidden_scheme"})


def add_source(session: Session, url: str, kind: SourceKind = SourceKind.FEED, title: str | None = None,
               hub_endpoint: str = DEFAULT_HUB_ENDPOINT) -> Source:
    """Watch ``url`` as a ``kind`` source (a Hub source on huggingface.co or ``hub_endpoint``).

    Raises SourceError when the URL does not fit the kind or is watched already.
    """
    url = adapter_for(kind).check_url(url, hub_endpoint)
    if session.scalar(select(Source).where(Source.url == url)) is not None:
        raise SourceError(f"already watching {url}")
    source = Source(url=url, kind=kind, title=title, next_poll_at=utcnow())
    session.add(source)
    session.flush()
    return source


def readable_source(url: str, kind: SourceKind, policy: FetchPolicy,
                    hub_endpoint: str = DEFAULT_HUB_ENDPOINT) -> tuple[str, SourceKind]:
    """The source to watch for what an editor gave: ``url`` itself when it reads as a source of
    ``kind``, or, for a ``feed`` URL that is a web page, the first feed the page announces that reads
    as one (RSS, Atom and JSON Feed before ``application/json``; see discovery).

    Each candidate is fetched under ``policy`` (the SSRF guard included) and parsed by its kind's
    adapter before it is accepted, so no source is added that could only fail.
    Returns (url, kind), the URL as reached after permanent redirects. A Hub source may be on
    huggingface.co or on ``hub_endpoint`` (the ``hub_endpoint`` setting).
    Raises SourceError: the URL does not fit the kind; the fetcher refuses its address (a private
    or local network, unless settings allow those); it cannot be read now; or neither it nor any
    feed it announces parses.
    """
    url = adapter_for(kind).check_url(url, hub_endpoint)
    responses: list[FetchResult] = []
    try:
        return _read_as(url, kind, policy, responses), kind
    except ParseError as exc:
        if kind is not SourceKind.FEED or not responses:
            raise SourceError(f"{url} is no {kind} source: {exc}") from exc
        not_a_feed = exc
    page = responses[0]
    candidates = discover_feeds(page.body, page.url)
    if not candidates:
        raise SourceError(f"{url} announces no feed (no <link rel=\"alternate\">) and is none itself: {not_a_feed}")
    problems = []
    for candidate, candidate_kind in candidates:
        try:
            return _read_as(candidate, candidate_kind, policy, []), candidate_kind
        except SourceError as exc:
            problems.append(str(exc))
        except ParseError as exc:
            problems.append(f"{candidate} is no {candidate_kind} source: {exc}")
    raise SourceError(f"{url} announces {len(candidates)} feed(s), and none reads as one: " + "; ".join(problems))


def _read_as(url: str, kind: SourceKind, policy: FetchPolicy, responses: list[FetchResult]) -> str:
    """Harvest ``url`` once as a ``kind`` source, keeping every response in ``responses``; returns
    the URL after permanent redirects. Raises SourceError when it cannot be fetched, ParseError
    when what came back is no source of that kind."""
    def get(target: str, etag: str | None, last_modified: str | None, accept: str) -> FetchResult:
        responses.append(fetch(target, policy, etag=etag, last_modified=last_modified, accept=accept))
        return responses[-1]

    try:
        harvest = adapter_for(kind).harvest(SourceView(url), get)
    except FetchError as exc:
        if exc.kind in FORBIDDEN:
            raise SourceError(f"refused {url}: {exc}; only public addresses can be watched") from exc
        raise SourceError(f"could not read {url} ({exc.kind}): {exc}") from exc
    return harvest.result.permanent_url or url


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
        raise SourceNotFound(f"no source with id {source_id}")
    return source


def set_state(session: Session, source_id: int, state: SourceState, reason: str | None = None) -> Source:
    source = get_source(session, source_id)
    source.state = state
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
    query = select(Source.id).where(Source.state == SourceState.ACTIVE)
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
    query = (select(Source.id).where(Source.state == SourceState.ACTIVE, Source.next_poll_at <= now)
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
                "tool_key": source.tool_key,
                "tags": list(source.tags or []),
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
