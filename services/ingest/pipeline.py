"""refresh_source: the one path from a source's URL to stored entries and queued candidates.

Used by the worker's actor, by `verdicts poll --once` and by the demo alike. A poll claims its
source first (compare-and-set on ``claimed_until``), so two workers never poll one source at once.
Whatever goes wrong is recorded on the source; nothing escapes to crash the worker.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.core import events
from services.core.db.base import utcnow
from services.core.db.models import Entry, EntryTombstone, Evidence, Source, Tool
from services.core.domain import Detection, ParsedEntry, SourceState, ToolState
from services.core.settings import Settings
from services.core.slugs import unique_slug
from services.ingest import resolve, schedule
from services.ingest.adapters import Getter, Harvest, SourceView, adapter_for
from services.ingest.detect import detect
from services.ingest.fetcher import FetchError, FetchPolicy, FetchResult, fetch
from services.ingest.parser import ParseError, content_hash

log = logging.getLogger(__name__)

PAUSE_AFTER_FAILURES = schedule.PAUSE_AFTER_FAILURES
CLAIM_SLACK_SECONDS = 60


@dataclass(frozen=True)
class RefreshReport:
    source_id: int
    status: str  # ok, not_modified, failed, skipped
    new_entries: int = 0
    new_candidates: int = 0
    updated_entries: int = 0
    error: str | None = None


class _Failure(Exception):
    """Anything that made a poll fail, with the kind recorded on the source."""

    def __init__(self, kind: str, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.kind, self.status, self.retry_after = kind, status, retry_after


def policy_from(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        timeout_seconds=settings.fetch_timeout_seconds,
        connect_timeout_seconds=settings.fetch_connect_timeout_seconds,
        max_bytes=settings.fetch_max_bytes,
        allow_private_networks=settings.allow_private_networks,
    )


def getter(policy: FetchPolicy, client: httpx.Client | None = None) -> Getter:
    def get(url: str, etag: str | None, last_modified: str | None, accept: str) -> FetchResult:
        return fetch(url, policy, etag=etag, last_modified=last_modified, client=client, accept=accept)

    return get


def refresh_source(sessions: sessionmaker[Session], source_id: int, settings: Settings, *,
                   client: httpx.Client | None = None) -> RefreshReport:
    """Poll one source now (if active and not being polled elsewhere), store what is new, reschedule it."""
    policy = policy_from(settings)
    lease = dt.timedelta(seconds=policy.timeout_seconds * 11 + CLAIM_SLACK_SECONDS)
    with sessions() as session, session.begin():
        claimed = claim(session, source_id, lease)
    if claimed is None:
        return RefreshReport(source_id, "skipped")
    kind, view = claimed
    try:
        harvest = _harvest(kind, view, getter(policy, client))
    except _Failure as failure:
        return _fail(sessions, source_id, failure)
    try:
        with sessions() as session, session.begin():
            source = session.get(Source, source_id)
            assert source is not None
            new_entries = new_candidates = updated = 0
            if not harvest.not_modified:
                if harvest.title and not source.title:
                    source.title = harvest.title[:500]
                source.parse_warning = harvest.warning
                if harvest.watermark:
                    source.watermark = harvest.watermark
                new_entries, new_candidates, updated = store_entries(session, source, harvest.entries)
            _record_success(source, harvest, new_entries=new_entries)
    except Exception as exc:  # a storage bug or a constraint we did not foresee: recorded, never lost silently
        log.exception("storing entries of source %s failed", source_id)
        return _fail(sessions, source_id, _Failure("store", f"{type(exc).__name__}: {exc}"))
    status = "not_modified" if harvest.not_modified else "ok"
    return RefreshReport(source_id, status, new_entries, new_candidates, updated)


def claim(session: Session, source_id: int, lease: dt.timedelta) -> tuple[str, SourceView] | None:
    """Compare-and-set: take the source if it is active and nobody holds it; None otherwise."""
    now = utcnow()
    taken = session.execute(
        update(Source)
        .where(Source.id == source_id, Source.state == SourceState.ACTIVE.value,
               or_(Source.claimed_until.is_(None), Source.claimed_until < now))
        .values(claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return None
    source = session.get(Source, source_id)
    assert source is not None
    return source.kind, SourceView(source.url, source.etag, source.last_modified, source.watermark)


def _harvest(kind: str, view: SourceView, get: Getter) -> Harvest:
    try:
        return adapter_for(kind).harvest(view, get)
    except (FetchError, ParseError) as exc:
        raise _Failure(exc.kind, str(exc), status=getattr(exc, "status", None),
                       retry_after=getattr(exc, "retry_after", None)) from exc
    except Exception as exc:  # a parser or library bug on hostile input: the worker goes on
        log.exception("unexpected error polling %s", view.url)
        raise _Failure("internal", f"{type(exc).__name__}: {exc}") from exc


def _fail(sessions: sessionmaker[Session], source_id: int, failure: _Failure) -> RefreshReport:
    with sessions() as session, session.begin():
        _record_failure(session, source_id, failure)
    log.warning("source %s failed (%s): %s", source_id, failure.kind, failure)
    return RefreshReport(source_id, "failed", error=f"{failure.kind}: {failure}")


def store_entries(session: Session, source: Source, parsed: list[ParsedEntry]) -> tuple[int, int, int]:
    """Store entries not seen before, update edited ones, detect tools among the new; returns
    (new entries, new candidates, updated entries)."""
    guids = list(dict.fromkeys(entry.guid for entry in parsed))
    known = {e.guid: e for e in session.scalars(select(Entry).where(Entry.source_id == source.id, Entry.guid.in_(guids)))}
    buried = set(session.scalars(select(EntryTombstone.guid).where(EntryTombstone.source_id == source.id,
                                                                   EntryTombstone.guid.in_(guids))))
    new_entries = new_candidates = updated = 0
    for item in parsed:
        if item.guid in buried:
            continue
        digest = content_hash(item)
        existing = known.get(item.guid)
        if existing is not None:
            if existing.content_hash != digest:  # the publisher edited it: keep the latest text, no new candidate
                existing.title, existing.link, existing.summary = item.title, item.link, item.summary
                existing.content_hash = digest
                updated += 1
            continue
        entry = Entry(source_id=source.id, guid=item.guid, link=item.link, title=item.title, summary=item.summary,
                      author=item.author, tags=list(item.tags), content_hash=digest, published_at=item.published_at)
        session.add(entry)
        session.flush()
        known[item.guid] = entry
        new_entries += 1
        events.record(session, "entry.ingested", entry_id=entry.id, source_id=source.id)
        detection = detect(item)
        if detection.is_release and queue_candidate(session, source, entry, detection):
            new_candidates += 1
    return new_entries, new_candidates, updated


def queue_candidate(session: Session, source: Source, entry: Entry, detection: Detection) -> bool:
    """Attach the entry to the tool it names, or open a new candidate; True when a candidate is new.

    A rejected tool keeps its new sightings as evidence but does not come back to the queue; an
    approved one gets the sighting as an update.
    """
    tool = resolve.find_tool(session, detection)
    evidence = Evidence(entry_id=entry.id, source_url=source.url, url=entry.link, title=entry.title[:2000],
                        snippet=entry.summary[:500], version=detection.version)
    if tool is not None:
        evidence.kind = "update" if tool.state == ToolState.APPROVED.value else "detected"
        tool.evidence.append(evidence)
        if detection.version and tool.state == ToolState.APPROVED.value:
            tool.version = detection.version
        session.flush()
        resolve.remember_keys(session, tool, detection.keys)
        events.record(session, "tool.updated" if evidence.kind == "update" else "tool.evidence_added",
                      tool_id=tool.id, entry_id=entry.id)
        return False
    tool = Tool(slug=unique_slug(session, Tool.slug, detection.name), name=detection.name, vendor=detection.vendor,
                homepage=detection.homepage, version=detection.version, canonical_key=detection.key,
                score=detection.score, reasons=list(detection.reasons), evidence=[evidence])
    session.add(tool)
    session.flush()
    resolve.remember_keys(session, tool, detection.keys)
    events.record(session, "tool.detected", tool_id=tool.id, entry_id=entry.id, score=detection.score)
    events.record(session, "tool.queued", tool_id=tool.id)
    return True


def forget_entry(session: Session, entry_id: int) -> None:
    """Delete an entry for good: a tombstone keeps the same item from being stored again."""
    entry = session.get(Entry, entry_id)
    if entry is None:
        return
    session.add(EntryTombstone(source_id=entry.source_id, guid=entry.guid))
    session.delete(entry)


def _record_success(source: Source, harvest: Harvest, *, new_entries: int) -> None:
    now = utcnow()
    result = harvest.result
    if result.permanent_url and result.permanent_url != source.url:
        source.url = result.permanent_url
    source.etag = result.etag or source.etag
    source.last_modified = result.last_modified or source.last_modified
    source.last_polled_at = now
    source.last_success_at = now
    source.consecutive_failures = 0
    source.last_error = source.last_error_kind = source.last_error_status = None
    source.claimed_until = None
    dates = [e.published_at for e in harvest.entries if e.published_at]
    source.poll_interval_seconds = schedule.next_interval(source.poll_interval_seconds, dates, new_entries)
    source.next_poll_at = now + dt.timedelta(seconds=source.poll_interval_seconds)


def _record_failure(session: Session, source_id: int, failure: _Failure) -> None:
    source = session.get(Source, source_id)
    if source is None:
        return
    now = utcnow()
    source.last_polled_at = now
    source.last_error = str(failure)[:2000]
    source.last_error_kind = failure.kind
    source.last_error_status = failure.status
    source.last_error_at = now
    source.consecutive_failures += 1
    source.claimed_until = None
    delay = schedule.failure_delay(source.consecutive_failures, failure.retry_after)
    source.next_poll_at = now + dt.timedelta(seconds=delay)
    if failure.kind == "gone":
        source.state = SourceState.DISABLED.value
        source.state_reason = str(failure)
        events.record(session, "source.disabled", source_id=source_id, reason=str(failure))
    elif source.consecutive_failures >= PAUSE_AFTER_FAILURES:
        source.state = SourceState.PAUSED.value
        source.state_reason = f"paused after {source.consecutive_failures} failures in a row: {failure}"
        events.record(session, "source.paused", source_id=source_id, reason=source.state_reason)


