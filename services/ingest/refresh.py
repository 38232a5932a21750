"""Refresh: the one path from a source's URL to stored entries and queued candidates.

``refresh_sources`` (a batch of the scheduler's tick) and ``refresh_source`` (a batch of one: the
CLI's ``poll --once``, the demo, "poll now") are used by the worker's actors, the CLI and the web
alike. The steps: claim the sources (``claims``), fetch and parse each through its adapter, store
what is new and queue candidates (``store``), and record each outcome on its source
(``source_health``). Whatever goes wrong is recorded on the source; nothing escapes to crash the
worker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

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
    that fails goes through its own steps and never holds the others back. Database errors outside
    a source's own steps (claiming, recording the 304s) propagate.
    """
    policy = policy_from(settings)
    get = getter(policy)
    engine = sessions.kw["bind"]  # claims and 304s are plain statements: no ORM session needed
    with engine.begin() as connection:
        claimed = claim_many(connection, source_ids, lease_for(policy, len(source_ids)))
    reports: dict[int, RefreshReport] = {}
    quiet: list[PollSuccess] = []
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
            quiet.append(PollSuccess(source_id, harvest.result, interval))
            reports[source_id] = RefreshReport(source_id, "not_modified")
        else:
            # the body is parsed: only the entries wait for the batch's store, not the bytes
            fetched.append((source_id, replace(harvest, result=replace(harvest.result, body=b""))))
    if quiet:
        with engine.begin() as connection:
            record_polls_succeeded(connection, quiet)
    reports.update(_keep(sessions, fetched))
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
        raise PollFailure("internal", f"{type(exc).__name__}: {exc}") from exc


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
    """Store one fetched feed; a failure is recorded on its source as kind ``store``."""
    try:
        return _store(sessions, [(source_id, harvest)])[source_id]
    except Exception as exc:  # a storage bug we did not foresee: recorded on the source, the worker goes on
        log.exception("storing entries of source %s failed", source_id)
        return _fail(sessions, source_id, PollFailure("store", f"{type(exc).__name__}: {exc}"))


def _store(sessions: sessionmaker[Session], fetched: list[tuple[int, Harvest]]) -> dict[int, RefreshReport]:
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
                source.title = harvest.title[:500]
            source.parse_warning = harvest.warning
            if harvest.watermark:
                source.watermark = harvest.watermark
            batch.append((source, harvest))
        counts = store_entries(session, [(source, harvest.entries) for source, harvest in batch])
        polls = [PollSuccess(source.id, harvest.result, source.poll_interval_seconds,
                             [entry.published_at for entry in harvest.entries if entry.published_at],
                             counts[source.id].new_entries)
                 for source, harvest in batch]
        record_polls_succeeded(session.connection(), polls)
        for source, _ in batch:
            reports[source.id] = RefreshReport(source.id, "ok", *counts[source.id])
        return reports


def _fail(sessions: sessionmaker[Session], source_id: int, failure: PollFailure) -> RefreshReport:
    """Record a failed poll on its source in a transaction of its own; the report says why."""
    with sessions() as session, session.begin():
        record_poll_failed(session, source_id, failure)
    log.warning("source %s failed (%s): %s", source_id, failure.kind, failure)
    return RefreshReport(source_id, "failed", error=f"{failure.kind}: {failure}")
