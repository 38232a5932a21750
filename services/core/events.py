"""The event spine: a transactional outbox, a relay, a sweeper and handlers registered by type.

``record()`` adds an event row to the caller's session, so the event exists exactly when the
change it announces was committed. The relay publishes new rows to the broker; the sweeper
publishes again any row not handled within the grace period (a lost message, a Redis flush, a
crashed worker). ``handle()`` runs the handlers and marks the row handled in one transaction,
with the row locked, so a duplicate delivery finds it handled and does nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from services.core.db.base import utcnow
from services.core.db.models import Event

log = logging.getLogger(__name__)

Payload = dict[str, object]
Handler = Callable[[Session, Payload], None]
Publish = Callable[[int], None]

_handlers: dict[str, list[Handler]] = {}
RELAY_BATCH = 500


def handles(event_type: str) -> Callable[[Handler], Handler]:
    """Register a handler for one event type. Handlers must be safe to run twice."""

    def register(handler: Handler) -> Handler:
        known = _handlers.setdefault(event_type, [])
        if handler not in known:
            known.append(handler)
        return handler

    return register


def handlers_for(event_type: str) -> tuple[Handler, ...]:
    return tuple(_handlers.get(event_type, ()))


def record(session: Session, event_type: str, **payload: object) -> Event:
    """Write an event in the caller's transaction; it is published only if that transaction commits."""
    event = Event(type=event_type, payload=payload)
    session.add(event)
    return event


def _publish(sessions: sessionmaker[Session], publish: Publish, stale_before: dt.datetime | None) -> int:
    with sessions() as session, session.begin():
        pending = select(Event).where(Event.handled_at.is_(None))
        if stale_before is None:
            pending = pending.where(Event.published_at.is_(None))
        else:
            pending = pending.where(or_(Event.published_at.is_(None), Event.published_at < stale_before))
        rows = session.scalars(
            pending.order_by(Event.id).limit(RELAY_BATCH).with_for_update(skip_locked=True)
        ).all()
        now = utcnow()
        for event in rows:
            publish(event.id)
            event.published_at = now
            event.publish_count += 1
        return len(rows)


def relay(sessions: sessionmaker[Session], publish: Publish) -> int:
    """Publish events that were never published; returns how many."""
    return _publish(sessions, publish, stale_before=None)


def sweep(sessions: sessionmaker[Session], publish: Publish, grace_seconds: int) -> int:
    """Publish again events still unhandled ``grace_seconds`` after their last publish."""
    return _publish(sessions, publish, stale_before=utcnow() - dt.timedelta(seconds=grace_seconds))


def handle(sessions: sessionmaker[Session], event_id: int) -> bool:
    """Run the handlers of one event once in effect; False when it was already handled or is gone."""
    try:
        with sessions() as session, session.begin():
            event = session.scalars(select(Event).where(Event.id == event_id).with_for_update()).one_or_none()
            if event is None or event.handled_at is not None:
                return False
            for handler in handlers_for(event.type):
                handler(session, dict(event.payload))
            event.handled_at = utcnow()
            event.last_error = None
            return True
    except Exception as exc:
        with sessions() as session, session.begin():
            failed = session.get(Event, event_id)
            if failed is not None:
                failed.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        raise


def waiting_longer_than(session: Session, seconds: int) -> list[Event]:
    """Events unhandled for longer than ``seconds`` since they were recorded (for the ops page)."""
    cutoff = utcnow() - dt.timedelta(seconds=seconds)
    return list(
        session.scalars(
            select(Event).where(Event.handled_at.is_(None), Event.created_at < cutoff).order_by(Event.id)
        )
    )
