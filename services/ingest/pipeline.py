"""refresh_source: the one path from a source's URL to stored entries and queued candidates.

Used by the worker's actor, by `verdicts poll --once` and by the demo alike. A poll claims its
source first (compare-and-set on ``claimed_until``), so two workers never poll one source at once.
Whatever goes wrong is recorded on the source; nothing escapes to crash the worker.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import String, bindparam, func, insert, null, or_, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.core import events
from services.core.db.base import utcnow
from services.core.db.models import Entry, EntryTombstone, Event, Evidence, Source, Tool, ToolKey
from services.core.domain import Detection, ParsedEntry, SourceState, ToolState
from services.core.settings import Settings
from services.ingest import resolve, schedule
from services.ingest.adapters import Getter, Harvest, SourceView, adapter_for
from services.ingest.cpu_turn import cpu_turn
from services.ingest.detect import detect
from services.ingest.fetcher import FetchError, FetchPolicy, FetchResult, fetch
from services.ingest.parser import ParseError, content_hash

log = logging.getLogger(__name__)

PAUSE_AFTER_FAILURES = schedule.PAUSE_AFTER_FAILURES
CLAIM_SLACK_SECONDS = 60
#: The longest a batch of polls may run (the actors' time limit): a claim never needs to outlive
#: it, so the sources of a batch whose worker died are free again within this, plus the slack.
BATCH_TIME_LIMIT = dt.timedelta(minutes=30)
STORE_ATTEMPTS = 3
#: Bulk inserts go to the tables (Core), not through the ORM's bulk path: same rows, less work per row.
ENTRIES, EVENTS, EVIDENCE, TOOL_KEYS = (model.__table__ for model in (Entry, Event, Evidence, ToolKey))


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


def getter(policy: FetchPolicy) -> Getter:
    def get(url: str, etag: str | None, last_modified: str | None, accept: str) -> FetchResult:
        return fetch(url, policy, etag=etag, last_modified=last_modified, accept=accept)

    return get


def refresh_source(sessions: sessionmaker[Session], source_id: int, settings: Settings) -> RefreshReport:
    """Poll one source now (if active and not being polled elsewhere), store what is new, reschedule it."""
    return refresh_sources(sessions, [source_id], settings)[0]


def refresh_sources(sessions: sessionmaker[Session], source_ids: list[int], settings: Settings) -> list[RefreshReport]:
    """Poll several sources in turn (a batch of the scheduler's tick), one report each, in order.

    One statement claims the whole batch, one executemany UPDATE records every 304, and the feeds
    that brought something are stored together in one transaction: a statement costs more than the
    rows it writes, so a batch pays for each kind of statement once instead of once per source.
    A source that fails goes through its own steps and never holds the others back.
    """
    policy = policy_from(settings)
    get = getter(policy)
    lease = lease_for(policy, len(source_ids))
    engine = sessions.kw["bind"]  # claims and 304s are plain statements: no ORM session needed
    with engine.begin() as connection:
        claimed = claim_many(connection, source_ids, lease)
    reports: dict[int, RefreshReport] = {}
    quiet: list[tuple[int, FetchResult, int]] = []
    fetched: list[tuple[int, Harvest]] = []
    for source_id in source_ids:
        if source_id not in claimed:
            reports[source_id] = RefreshReport(source_id, "skipped")
            continue
        kind, view, interval = claimed[source_id]
        try:
            harvest = _harvest(kind, view, get)
        except _Failure as failure:
            reports[source_id] = _fail(sessions, source_id, failure)
            continue
        if harvest.not_modified:
            quiet.append((source_id, harvest.result, interval))
            reports[source_id] = RefreshReport(source_id, "not_modified")
        else:
            # the body is parsed: only the entries wait for the batch's store, not the bytes
            fetched.append((source_id, replace(harvest, result=replace(harvest.result, body=b""))))
    if quiet:
        with engine.begin() as connection:
            _record_not_modified(connection, quiet)
    reports.update(_keep(sessions, fetched))
    return [reports[source_id] for source_id in source_ids]


def lease_for(policy: FetchPolicy, sources: int) -> dt.timedelta:
    """How long a batch holds its claims: each source's worst case (a fetch per redirect hop, each
    up to the timeout), but never beyond the batch's time limit."""
    worst = dt.timedelta(seconds=(policy.timeout_seconds * 11 + CLAIM_SLACK_SECONDS) * sources)
    return min(worst, BATCH_TIME_LIMIT + dt.timedelta(seconds=CLAIM_SLACK_SECONDS))


def _keep(sessions: sessionmaker[Session], fetched: list[tuple[int, Harvest]]) -> dict[int, RefreshReport]:
    """Store the fetched feeds of a batch in one transaction; if that fails (one feed trips on
    something unforeseen), each feed is stored on its own, so one feed's trouble never costs the
    others their entries. (A tool another worker created meanwhile is handled inside the store.)"""
    if len(fetched) > 1:
        try:
            return _store(sessions, fetched)
        except Exception as exc:
            log.info("storing %s sources together failed (%s); storing them one by one", len(fetched),
                     type(exc).__name__)
    return {source_id: _keep_one(sessions, source_id, harvest) for source_id, harvest in fetched}


def _keep_one(sessions: sessionmaker[Session], source_id: int, harvest: Harvest) -> RefreshReport:
    try:
        return _store(sessions, [(source_id, harvest)])[source_id]
    except Exception as exc:  # a storage bug we did not foresee: recorded on the source, the worker goes on
        log.exception("storing entries of source %s failed", source_id)
        return _fail(sessions, source_id, _Failure("store", f"{type(exc).__name__}: {exc}"))


def _store(sessions: sessionmaker[Session], fetched: list[tuple[int, Harvest]]) -> dict[int, RefreshReport]:
    with cpu_turn, sessions() as session, session.begin():
        sources = {source.id: source for source in
                   session.scalars(select(Source).where(Source.id.in_([source_id for source_id, _ in fetched])))}
        batch: list[tuple[Source, Harvest]] = []
        reports: dict[int, RefreshReport] = {}
        for source_id, harvest in fetched:
            source = sources.get(source_id)
            if source is None:  # deleted while it was being polled
                reports[source_id] = RefreshReport(source_id, "skipped")
                continue
            if harvest.title and not source.title:
                source.title = harvest.title[:500]
            source.parse_warning = harvest.warning
            if harvest.watermark:
                source.watermark = harvest.watermark
            batch.append((source, harvest))
        counts = store_entries(session, [(source, harvest.entries) for source, harvest in batch])
        for source, harvest in batch:
            new_entries, new_candidates, updated = counts[source.id]
            _record_success(source, harvest, new_entries=new_entries)
            reports[source.id] = RefreshReport(source.id, "ok", new_entries, new_candidates, updated)
        return reports


def claim(session: Session | Connection, source_id: int, lease: dt.timedelta) -> tuple[str, SourceView, int] | None:
    """Compare-and-set: take the source if it is active and nobody holds it; None otherwise."""
    return claim_many(session, [source_id], lease).get(source_id)


def claim_many(session: Session | Connection, source_ids: list[int],
               lease: dt.timedelta) -> dict[int, tuple[str, SourceView, int]]:
    """Compare-and-set in one statement: take those of the sources that are active and held by
    nobody. PostgreSQL re-checks the condition on a row another transaction just updated, so two
    workers never both take a source."""
    now = utcnow()
    rows = session.execute(
        update(Source)
        .where(Source.id.in_(source_ids), Source.state == SourceState.ACTIVE.value,
               or_(Source.claimed_until.is_(None), Source.claimed_until < now))
        .values(claimed_until=now + lease)
        .returning(Source.id, Source.kind, Source.url, Source.etag, Source.last_modified, Source.watermark,
                   Source.poll_interval_seconds)
        .execution_options(synchronize_session=False)
    ).all()
    return {source_id: (kind, SourceView(url, etag, last_modified, watermark), interval)
            for source_id, kind, url, etag, last_modified, watermark, interval in rows}


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


@dataclass(frozen=True)
class Stored:
    """A new entry as inserted: its id, the source it came from and the parsed values it was made from."""

    id: int
    source: Source
    item: ParsedEntry


def store_entries(session: Session,
                  batch: Sequence[tuple[Source, list[ParsedEntry]]]) -> dict[int, tuple[int, int, int]]:
    """Store the entries of one or more sources: those not seen before are added, edited ones
    updated, tools detected among the new. Returns (new entries, new candidates, updated entries)
    per source id.

    Written with set-based statements (one SELECT for what is known or buried, one multi-row INSERT
    … RETURNING for the new entries, one for their events), each once for the whole batch: per-row
    ORM work, or a statement per source, would cost more than parsing the feeds did.
    """
    counts = {source.id: [0, 0, 0] for source, _ in batch}
    wanted = {(source.id, entry.guid) for source, entries in batch for entry in entries}
    if not wanted:
        return {source_id: (0, 0, 0) for source_id in counts}
    source_ids, guids = list(counts), list({guid for _, guid in wanted})
    seen = session.execute(
        select(Entry.source_id, Entry.guid, Entry.id, Entry.content_hash)
        .where(Entry.source_id.in_(source_ids), Entry.guid.in_(guids))
        .union_all(select(EntryTombstone.source_id, EntryTombstone.guid, null(), null())
                   .where(EntryTombstone.source_id.in_(source_ids), EntryTombstone.guid.in_(guids)))
    ).all()
    known = {(source_id, guid): (entry_id, digest) for source_id, guid, entry_id, digest in seen}
    fresh: list[tuple[Source, ParsedEntry, str]] = []
    for source, entries in batch:
        for item in entries:
            digest = content_hash(item)
            found = known.get((source.id, item.guid))
            if found is not None:
                entry_id, stored_digest = found
                if entry_id is not None and stored_digest != digest:  # edited by the publisher: keep the latest text
                    session.execute(update(Entry).where(Entry.id == entry_id).values(
                        title=item.title, link=item.link, summary=item.summary, content_hash=digest))
                    known[(source.id, item.guid)] = (entry_id, digest)
                    counts[source.id][2] += 1
                continue  # known, or a tombstone: a deleted entry does not come back
            known[(source.id, item.guid)] = (None, digest)
            fresh.append((source, item, digest))
    if fresh:
        now = utcnow()
        ids = session.scalars(
            insert(ENTRIES).returning(ENTRIES.c.id, sort_by_parameter_order=True),
            [{"source_id": source.id, "guid": item.guid, "link": item.link, "title": item.title,
              "summary": item.summary, "author": item.author, "tags": list(item.tags), "content_hash": digest,
              "published_at": item.published_at, "fetched_at": now} for source, item, digest in fresh],
        ).all()
        stored = [Stored(entry_id, source, item) for entry_id, (source, item, _) in zip(ids, fresh, strict=True)]
        # The rows events.record() writes, in one statement for the batch.
        session.execute(insert(EVENTS), [{"type": "entry.ingested",
                                          "payload": {"entry_id": entry.id, "source_id": entry.source.id}}
                                         for entry in stored])
        for entry in stored:
            counts[entry.source.id][0] += 1
        sightings = [(entry, detect(entry.item)) for entry in stored]
        for source_id, new_candidates in _queue_retrying(session, sightings).items():
            counts[source_id][1] = new_candidates
    return {source_id: (new, candidates, updated) for source_id, (new, candidates, updated) in counts.items()}


def _queue_retrying(session: Session, sightings: list[tuple[Stored, Detection]]) -> dict[int, int]:
    """queue_candidates in a savepoint. When another worker created one of the same tools a moment
    ago, the unique key says so once that worker has committed: only this step is rolled back and
    done again, and it then finds that tool; the entries already written stay."""
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            with session.begin_nested():
                return queue_candidates(session, sightings)
        except IntegrityError as exc:
            if attempt == STORE_ATTEMPTS:
                raise
            log.info("a tool was created by another worker meanwhile (%s); resolving again", type(exc.orig).__name__)
    raise AssertionError("unreachable: the last attempt returns or raises")


def queue_candidates(session: Session, sightings: list[tuple[Stored, Detection]]) -> dict[int, int]:
    """Attach each release to the tool it names, or open a new candidate; returns how many are new
    per source id.

    One lookup resolves the keys of the whole batch; sightings in the same batch that share a key
    (ten releases of one repository, or one release seen in two feeds) land on the same tool. A
    rejected tool keeps new sightings as evidence but does not come back to the queue; an approved
    one gets them as updates.
    """
    releases = [(entry, detection) for entry, detection in sightings if detection.is_release]
    if not releases:
        return {}
    with session.no_autoflush:
        by_key = resolve.known_tools(session, {key for _, detection in releases for key in detection.keys})
        unresolved = [d.name for _, d in releases if d.key and d.key.startswith("name:")
                      and not any(key in by_key for key in d.keys)]
        similar = resolve.similar_names(session, unresolved)
        slugs = resolve.SlugBook(session)
        new_keys: list[tuple[Tool, str]] = []
        outcomes: list[tuple[str, Tool, Stored, Detection]] = []
        for entry, detection in releases:
            tool = next((by_key[key] for key in detection.keys if key in by_key), None)
            if tool is None and detection.key and detection.key.startswith("name:"):
                tool = similar.best(detection.name)
            if tool is None:
                tool = Tool(slug=slugs.take(detection.name), name=detection.name, vendor=detection.vendor,
                            homepage=detection.homepage, version=detection.version, canonical_key=detection.key,
                            score=detection.score, reasons=list(detection.reasons))
                session.add(tool)
                similar.add(tool)
                outcome = "new"
            elif tool.state == ToolState.APPROVED.value:
                if detection.version:
                    tool.version = detection.version
                outcome = "update"
            else:
                outcome = "detected"
            for key in detection.keys:
                if key not in by_key:
                    by_key[key] = tool
                    new_keys.append((tool, key))
            outcomes.append((outcome, tool, entry, detection))
    session.flush()  # new tools get their ids
    session.execute(insert(EVIDENCE), [
        {"tool_id": tool.id, "entry_id": entry.id, "source_url": entry.source.url, "url": entry.item.link,
         "title": entry.item.title[:2000], "snippet": entry.item.summary[:500], "version": detection.version,
         "kind": "update" if outcome == "update" else "detected"}
        for outcome, tool, entry, detection in outcomes])
    if new_keys:
        session.execute(insert(TOOL_KEYS), [{"tool_id": tool.id, "key": key[:500]} for tool, key in new_keys])
    happened: list[dict[str, object]] = []
    new_per_source: dict[int, int] = {}
    for outcome, tool, entry, detection in outcomes:
        if outcome == "new":
            happened.append({"type": "tool.detected",
                             "payload": {"tool_id": tool.id, "entry_id": entry.id, "score": detection.score}})
            happened.append({"type": "tool.queued", "payload": {"tool_id": tool.id}})
            new_per_source[entry.source.id] = new_per_source.get(entry.source.id, 0) + 1
        else:
            happened.append({"type": "tool.updated" if outcome == "update" else "tool.evidence_added",
                             "payload": {"tool_id": tool.id, "entry_id": entry.id}})
    session.execute(insert(EVENTS), happened)  # the rows events.record() writes, in one statement
    return new_per_source


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


_NOT_MODIFIED = (
    update(Source).where(Source.id == bindparam("b_id"))
    .values(last_polled_at=bindparam("b_now"), last_success_at=bindparam("b_now"), consecutive_failures=0,
            last_error=None, last_error_kind=None, last_error_status=None, claimed_until=None,
            poll_interval_seconds=bindparam("b_interval"), next_poll_at=bindparam("b_next"),
            etag=func.coalesce(bindparam("b_etag", type_=String), Source.etag),
            last_modified=func.coalesce(bindparam("b_last_modified", type_=String), Source.last_modified),
            url=func.coalesce(bindparam("b_url", type_=String), Source.url))
    .execution_options(synchronize_session=False)
)


#: The same UPDATE for every 304 of a batch in one statement, its rows handed over as arrays.
_NOT_MODIFIED_ON_POSTGRESQL = text("""
UPDATE sources SET last_polled_at = :now, last_success_at = :now, consecutive_failures = 0,
       last_error = NULL, last_error_kind = NULL, last_error_status = NULL, claimed_until = NULL,
       poll_interval_seconds = q.seconds, next_poll_at = :now + make_interval(secs => q.seconds),
       etag = coalesce(q.etag, sources.etag), last_modified = coalesce(q.last_modified, sources.last_modified),
       url = coalesce(q.url, sources.url)
FROM unnest(CAST(:ids AS integer[]), CAST(:seconds AS integer[]), CAST(:etags AS text[]),
            CAST(:last_modifieds AS text[]), CAST(:urls AS text[])) AS q(id, seconds, etag, last_modified, url)
WHERE sources.id = q.id
""")


def _record_not_modified(connection: Connection, quiet: list[tuple[int, FetchResult, int]]) -> None:
    """Record 304s (source id, fetch result, current interval) in one statement, no row loaded:
    on PostgreSQL one UPDATE over arrays, elsewhere one executemany UPDATE."""
    now = utcnow()
    intervals = [schedule.next_interval(interval, [], 0) for _, _, interval in quiet]
    if connection.dialect.name == "postgresql":
        connection.execute(_NOT_MODIFIED_ON_POSTGRESQL, {
            "now": now, "ids": [source_id for source_id, _, _ in quiet], "seconds": intervals,
            "etags": [result.etag for _, result, _ in quiet],
            "last_modifieds": [result.last_modified for _, result, _ in quiet],
            "urls": [result.permanent_url for _, result, _ in quiet]})
        return
    connection.execute(_NOT_MODIFIED, [
        {"b_id": source_id, "b_now": now, "b_interval": interval, "b_next": now + dt.timedelta(seconds=interval),
         "b_etag": result.etag, "b_last_modified": result.last_modified, "b_url": result.permanent_url}
        for (source_id, result, _), interval in zip(quiet, intervals, strict=True)])


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


