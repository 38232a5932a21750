"""Refresh: the one path from a source's URL to stored entries and queued candidates.

``refresh_sources`` (a batch of the scheduler's tick) and ``refresh_source`` (a batch of one: the
CLI's ``poll --once``, the demo, "poll now") are used by the worker's actors, the CLI and the web
alike. The steps: claim the sources (``claims``), fetch and parse each through its adapter, store
what is new and queue candidates (``store``), and record each outcome on its source
(``source_health``). Whatever goes wrong is recorded on the source; nothing escapes to crash the
worker.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from services.core import limits
from services.core.db.models import Source
from services.core.settings import Settings
from services.ingest.adapters import Getter, Harvest, SourceView, adapter_for
from services.ingest.claims import claim_many, lease_for
from services.ingest.cpu_turn import cpu_turn
from services.ingest.fetcher import FetchError, FetchPolicy, FetchResult, fetch
from services.ingest.parser import ParseError
from services.ingest.source_health import PollFailure, PollSuccess, record_poll_failed, record_polls_succeeded
from services.ingest.store import store_entries

log = logging.getLogger(__name__)
T = TypeVar("T")
#: The longest error an unforeseen exception leaves on its source (the detail goes to the log).
SHORT_ERROR = 300

#: ``ok``: fetched and stored; ``not_modified``: the server said 304; ``failed``: recorded on the
#: source; ``skipped``: not polled (paused, disabled, deleted, or being polled by another worker).
RefreshStatus = Literal["ok", "not_modified", "failed", "skipped"]


@dataclass(frozen=True)
class RefreshReport:
    """What one source's refresh did."""

    source_id: int
    status: RefreshStatus
    new_entries: int = 0
    new_candidates: int = 0
    updated_entries: int = 0
    error: str | None = None


def policy_from(settings: Settings) -> FetchPolicy:
    """The fetch policy the settings ask for (timeouts, size cap, private networks)."""
    return FetchPolicy(
        timeout_seconds=settings.fetch_timeout_seconds,
        connect_timeout_seconds=settings.fetch_connect_timeout_seconds,
        max_bytes=settings.fetch_max_bytes,
        allow_private_networks=settings.allow_private_networks,
    )


def getter(policy: FetchPolicy) -> Getter:
    """The adapters' way to fetch a URL (conditional GET with the given validators), under ``policy``."""
    def get(url: str, etag: str | None, last_modified: str | None, accept: str) -> FetchResult:
        return fetch(url, policy, etag=etag, last_modified=last_modified, accept=accept)

    return get


def refresh_source(sessions: sessionmaker[Session], source_id: int, settings: Settings) -> RefreshReport:
    """Poll one source now (if active and not being polled elsewhere), store what is new, reschedule it."""
    return refresh_sources(sessions, [source_id], settings)[0]


def refresh_sources(sessions: sessionmaker[Session], source_ids: list[int], settings: Settings) -> list[RefreshReport]:
    """Poll several sources in turn (a batch of the scheduler's tick); one report each, in order.

    One statement claims the whole batch, one statement records every 304, and the feeds that
    brought something are stored together in one transaction: a statement costs more than the rows
    it writes, so a batch pays for each kind of statement once instead of once per source. A source
    that fails goes through its own steps and never holds the others back: what cannot be written
    for the batch at once is written source by source, and a source whose own write fails is
    recorded as failed, so none is left claimed. Only a database error while claiming propagates
    (nothing was taken then).
    """
    policy = policy_from(settings)
    get = getter(policy)
    engine = sessions.kw["bind"]  # claims and 304s are plain statements: no ORM session needed
    with engine.begin() as connection:
        claimed = claim_many(connection, source_ids, lease_for(policy, len(source_ids)))
    reports: dict[int, RefreshReport] = {}
    quiet: list[tuple[int, PollSuccess]] = []
    fetched: list[tuple[int, Harvest]] = []
    for source_id in source_ids:
        if source_id not in claimed:
            reports[source_id] = RefreshReport(source_id, "skipped")
            continue
        kind, view, interval = claimed[source_id]
        try:
            harvest = _harvest(kind, view, get)
        except PollFailure as failure:
            reports[source_id] = _fail(sessions, source_id, failure)
            continue
        if harvest.not_modified:
            quiet.append((source_id, PollSuccess(source_id, harvest.result, interval)))
        else:
            # the body is parsed: only the entries wait for the batch's store, not the bytes
            fetched.append((source_id, replace(harvest, result=replace(harvest.result, body=b""))))
    reports.update(_write(sessions, quiet, functools.partial(_record_not_modified, engine)))
    reports.update(_write(sessions, fetched, functools.partial(_store, sessions, threshold=settings.detect_threshold)))
    return [reports[source_id] for source_id in source_ids]


def _harvest(kind: str, view: SourceView, get: Getter) -> Harvest:
    """Fetch and parse one source through its adapter; any error becomes a PollFailure."""
    try:
        return adapter_for(kind).harvest(view, get)
    except (FetchError, ParseError) as exc:
        raise PollFailure(exc.kind, str(exc), status=getattr(exc, "status", None),
                          retry_after=getattr(exc, "retry_after", None)) from exc
    except Exception as exc:  # a parser or library bug on hostile input: the worker goes on
        log.exception("unexpected error polling %s", view.url)
        raise PollFailure("internal", _short(exc)) from exc


def _short(exc: Exception) -> str:
    """An unforeseen error as a short line to record on its source: the class and first line of
    the database's own message, never the SQL statement and parameters SQLAlchemy adds to it."""
    cause = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    first_line = next(iter(str(cause).strip().splitlines()), "")
    return limits.clip(f"{type(cause).__name__}: {first_line}", SHORT_ERROR)


def _write(sessions: sessionmaker[Session], polled: list[tuple[int, T]],
           write: Callable[[list[tuple[int, T]]], dict[int, RefreshReport]]) -> dict[int, RefreshReport]:
    """Write the outcomes of a batch's polls (``polled``: source id and what its poll brought) with
    ``write``, which does it in one transaction and returns a report per source id: all at once,
    and if that fails (one source trips on something unforeseen), each source on its own, so one
    source's trouble never costs the others theirs. A source whose own write fails is recorded as
    failed, kind ``store``, with a short error (the detail is logged), which also releases its claim.
    (A tool another worker created meanwhile is handled inside the store.)"""
    if len(polled) > 1:
        try:
            return write(polled)
        except Exception as exc:
            log.info("writing %s sources' polls together failed (%s); writing them one by one", len(polled),
                     type(exc).__name__)
    reports: dict[int, RefreshReport] = {}
    for source_id, outcome in polled:
        try:
            reports.update(write([(source_id, outcome)]))
        except Exception as exc:  # a storage bug we did not foresee: recorded on the source, the worker goes on
            log.exception("writing the poll of source %s failed", source_id)
            reports[source_id] = _fail(sessions, source_id, PollFailure("store", _short(exc)))
    return reports


def _record_not_modified(engine: Engine, quiet: list[tuple[int, PollSuccess]]) -> dict[int, RefreshReport]:
    """Record 304s as successful polls in one transaction, a plain statement without an ORM session;
    raises whatever the database raises (nothing is then written)."""
    with engine.begin() as connection:
        record_polls_succeeded(connection, [poll for _, poll in quiet])
    return {source_id: RefreshReport(source_id, "not_modified") for source_id, _ in quiet}


def _store(sessions: sessionmaker[Session], fetched: list[tuple[int, Harvest]],
           threshold: float | None) -> dict[int, RefreshReport]:
    """Store fetched feeds and record their polls as succeeded, all in one transaction; raises
    whatever the store raises (nothing is then written)."""
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
                source.title = limits.clip(harvest.title, limits.SOURCE_TITLE)
            source.parse_warning = harvest.warning
            if harvest.watermark:
                source.watermark = harvest.watermark
            batch.append((source, harvest))
        counts = store_entries(session, [(source, harvest.entries) for source, harvest in batch],
                               threshold=threshold)
        polls = [PollSuccess(source.id, harvest.result, source.poll_interval_seconds,
                             [entry.published_at for entry in harvest.entries if entry.published_at],
                             counts[source.id].new_entries)
                 for source, harvest in batch]
        record_polls_succeeded(session.connection(), polls)
        for source, _ in batch:
            reports[source.id] = RefreshReport(source.id, "ok", **counts[source.id]._asdict())
        return reports


def _fail(sessions: sessionmaker[Session], source_id: int, failure: PollFailure) -> RefreshReport:
    """Record a failed poll on its source in a transaction of its own; the report says why. When
    even that cannot be written (the database is gone), it is logged and the claim lapses by itself."""
    try:
        with sessions() as session, session.begin():
            record_poll_failed(session, source_id, failure)
    except Exception:
        log.exception("recording the failed poll of source %s failed", source_id)
    log.warning("source %s failed (%s): %s", source_id, failure.kind, failure)
    return RefreshReport(source_id, "failed", error=f"{failure.kind}: {failure}")
