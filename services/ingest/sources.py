"""Managing sources: add, list, pause, resume; and which are due for a poll."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core.db.base import utcnow
from services.core.db.models import Entry, Source
from services.core.domain import SourceKind, SourceState


class SourceError(ValueError):
    """A source request that cannot be honoured (unknown id, duplicate URL, bad kind)."""


def add_source(session: Session, url: str, kind: SourceKind = SourceKind.FEED, title: str | None = None) -> Source:
    if session.scalar(select(Source).where(Source.url == url)) is not None:
        raise SourceError(f"already watching {url}")
    source = Source(url=url, kind=kind.value, title=title, next_poll_at=utcnow())
    session.add(source)
    session.flush()
    return source


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
    return source


def due_source_ids(session: Session, now: dt.datetime | None = None, *, every: bool = False) -> list[int]:
    query = select(Source.id).where(Source.state == SourceState.ACTIVE.value)
    if not every:
        query = query.where(Source.next_poll_at <= (now or utcnow()))
    return list(session.scalars(query.order_by(Source.next_poll_at, Source.id)))


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
                "entries": counts.get(source.id, 0),
                "last_success_at": _iso(source.last_success_at),
                "last_error": source.last_error,
                "last_error_kind": source.last_error_kind,
                "consecutive_failures": source.consecutive_failures,
                "next_poll_at": _iso(source.next_poll_at),
            }
        )
    return rows


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
