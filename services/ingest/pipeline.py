"""refresh_source: the one path from a source's URL to stored entries and queued candidates.

Used by the worker's actor, by `verdicts poll --once` and by the demo alike.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.core import events
from services.core.db.base import utcnow
from services.core.db.models import Entry, Evidence, Source, Tool
from services.core.domain import Detection, ParsedEntry, SourceState, ToolState
from services.core.settings import Settings
from services.core.slugs import unique_slug
from services.ingest.detect import detect
from services.ingest.fetcher import FetchError, FetchPolicy, FetchResult, fetch
from services.ingest.parser import ParseError, content_hash, parse_feed

log = logging.getLogger(__name__)

MIN_INTERVAL = 300
MAX_INTERVAL = 24 * 3600
PAUSE_AFTER_FAILURES = 8


@dataclass(frozen=True)
class RefreshReport:
    source_id: int
    status: str
    new_entries: int = 0
    new_candidates: int = 0
    error: str | None = None


def policy_from(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        timeout_seconds=settings.fetch_timeout_seconds,
        connect_timeout_seconds=settings.fetch_connect_timeout_seconds,
        max_bytes=settings.fetch_max_bytes,
        allow_private_networks=settings.allow_private_networks,
    )


def refresh_source(sessions: sessionmaker[Session], source_id: int, settings: Settings) -> RefreshReport:
    with sessions() as session:
        source = session.get(Source, source_id)
        if source is None or source.state != SourceState.ACTIVE.value:
            return RefreshReport(source_id, "skipped")
        url, etag, last_modified = source.url, source.etag, source.last_modified
    try:
        result = fetch(url, policy_from(settings), etag=etag, last_modified=last_modified)
        parsed = None if result.not_modified else parse_feed(result.body, result.headers, base_url=result.url)
    except (FetchError, ParseError) as exc:
        with sessions() as session, session.begin():
            _record_failure(session, source_id, exc)
        log.warning("source %s failed: %s", source_id, exc)
        return RefreshReport(source_id, "failed", error=str(exc))
    with sessions() as session, session.begin():
        source = session.get(Source, source_id)
        assert source is not None
        if parsed is None:
            _record_success(source, result, new_entries=0)
            return RefreshReport(source_id, "not_modified")
        if parsed.title and not source.title:
            source.title = parsed.title[:500]
        source.parse_warning = parsed.warning
        new_entries, new_candidates = store_entries(session, source, parsed.entries)
        _record_success(source, result, new_entries=new_entries)
        return RefreshReport(source_id, "ok", new_entries=new_entries, new_candidates=new_candidates)


def store_entries(session: Session, source: Source, parsed: list[ParsedEntry]) -> tuple[int, int]:
    """Store the entries not seen before and detect tools among them; returns (entries, candidates)."""
    guids = [entry.guid for entry in parsed]
    known = set(session.scalars(select(Entry.guid).where(Entry.source_id == source.id, Entry.guid.in_(guids))))
    new_entries = new_candidates = 0
    for item in parsed:
        if item.guid in known:
            continue
        known.add(item.guid)
        entry = Entry(source_id=source.id, guid=item.guid, link=item.link, title=item.title, summary=item.summary,
                      author=item.author, tags=list(item.tags), content_hash=content_hash(item),
                      published_at=item.published_at)
        session.add(entry)
        session.flush()
        new_entries += 1
        events.record(session, "entry.ingested", entry_id=entry.id, source_id=source.id)
        detection = detect(item)
        if detection.is_release and _queue_candidate(session, source, entry, detection):
            new_candidates += 1
    return new_entries, new_candidates


def _queue_candidate(session: Session, source: Source, entry: Entry, detection: Detection) -> bool:
    """Attach the entry to the tool it names, or open a new candidate; True when a candidate is new."""
    tool = session.scalar(select(Tool).where(Tool.canonical_key == detection.key)) if detection.key else None
    evidence = Evidence(entry_id=entry.id, source_url=source.url, url=entry.link, title=entry.title,
                        snippet=entry.summary[:500], version=detection.version)
    if tool is not None:
        evidence.kind = "update" if tool.state == ToolState.APPROVED.value else "detected"
        tool.evidence.append(evidence)
        if detection.version:
            tool.version = detection.version
        events.record(session, "tool.evidence_added", tool_id=tool.id, entry_id=entry.id)
        return False
    tool = Tool(slug=unique_slug(session, Tool.slug, detection.name), name=detection.name, vendor=detection.vendor,
                homepage=detection.homepage, version=detection.version, canonical_key=detection.key,
                score=detection.score, reasons=list(detection.reasons), evidence=[evidence])
    session.add(tool)
    session.flush()
    events.record(session, "tool.detected", tool_id=tool.id, entry_id=entry.id)
    events.record(session, "tool.queued", tool_id=tool.id)
    return True


def _record_success(source: Source, result: FetchResult, *, new_entries: int) -> None:
    now = utcnow()
    if result.permanent_url:
        source.url = result.permanent_url
    source.etag = result.etag or source.etag
    source.last_modified = result.last_modified or source.last_modified
    source.last_polled_at = now
    source.last_success_at = now
    source.consecutive_failures = 0
    source.last_error = None
    source.last_error_kind = None
    # Publish often, poll often: halve the interval after news, stretch it after silence.
    interval = source.poll_interval_seconds
    interval = interval // 2 if new_entries else int(interval * 1.5)
    source.poll_interval_seconds = max(MIN_INTERVAL, min(MAX_INTERVAL, interval))
    source.next_poll_at = now + dt.timedelta(seconds=source.poll_interval_seconds)


def _record_failure(session: Session, source_id: int, exc: FetchError | ParseError) -> None:
    source = session.get(Source, source_id)
    if source is None:
        return
    now = utcnow()
    source.last_polled_at = now
    source.last_error = str(exc)[:2000]
    source.last_error_kind = exc.kind
    source.last_error_at = now
    source.consecutive_failures += 1
    retry_after = getattr(exc, "retry_after", None)
    backoff = min(MAX_INTERVAL, MIN_INTERVAL * 2 ** min(source.consecutive_failures, 10))
    delay = max(retry_after or 0, backoff * random.uniform(0.8, 1.2))
    source.next_poll_at = now + dt.timedelta(seconds=delay)
    if exc.kind == "gone":
        source.state = SourceState.DISABLED.value
        source.state_reason = str(exc)
        events.record(session, "source.disabled", source_id=source_id, reason=str(exc))
    elif source.consecutive_failures >= PAUSE_AFTER_FAILURES:
        source.state = SourceState.PAUSED.value
        source.state_reason = f"paused after {source.consecutive_failures} failures in a row: {exc}"
        events.record(session, "source.paused", source_id=source_id, reason=source.state_reason)
