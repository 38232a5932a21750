"""The event spine: a transactional outbox, a relay, a sweeper and handlers registered by type.

``record()`` adds an event row to the caller's session, so the event exists exactly when the
change it announces was committed. The relay publishes new rows to the broker; the sweeper
publishes again any row not handled within the grace period (a lost message, a Redis flush, a
crashed worker). ``handle()`` runs the handlers and marks the row handled in one transaction,
with the row locked, so a duplicate delivery finds it handled and does nothing.

``services.core.event_types`` lists every type: ``record()`` and ``row()`` refuse one it does not
list (or a payload with other keys), ``handles()`` a handler it does not expect. An event of a type
nothing handles is written handled, so the relay and the sweeper never publish it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from services.core import event_types, limits
from services.core.db.base import utcnow
from services.core.db.models import Event

log = logging.getLogger(__name__)

Payload = dict[str, object]
Handler = Callable[[Session, Payload], None]
Publish = Callable[[int], None]

_handlers: dict[str, list[Handler]] = {}
RELAY_BATCH = 500


class HandlerNotExpected(ValueError):
    """A handler for a type the catalogue says nothing handles, or that another module handles."""


class MissingHandler(RuntimeError):
    """An event whose type has a handler in the catalogue, but none is registered in this process."""


def handles(event_type: str) -> Callable[[Handler], Handler]:
    """Register a handler for one event type. Handlers must be safe to run twice.

    Raises, when the module is imported: ``UnknownEventType`` for a type not in the catalogue,
    ``HandlerNotExpected`` when the catalogue names no handler module, or another one, for it.
    """
    expected = event_types.lookup(event_type).handled_by

    def register(handler: Handler) -> Handler:
        if handler.__module__ != expected:
            raise HandlerNotExpected(f"{handler.__module__}.{handler.__name__} handles '{event_type}', which "
                                     f"services/core/event_types.py says is handled by {expected or 'nothing'}")
        known = _handlers.setdefault(event_type, [])
        if handler not in known:
            known.append(handler)
        return handler

    return register


def handlers_for(event_type: str) -> tuple[Handler, ...]:
    return tuple(_handlers.get(event_type, ()))


def registered() -> dict[str, tuple[Handler, ...]]:
    """Every event type this process has handlers for, with them (a copy)."""
    return {event_type: tuple(handlers) for event_type, handlers in _handlers.items()}


def row(event_type: str, **payload: object) -> dict[str, object]:
    """The column values of one event row, for a bulk ``insert(Event)`` of many (``record()`` writes one).

    Output: ``{"type", "payload", "handled_at"}``; ``handled_at`` is now for a type nothing handles
    (it is on the record only, and the relay never publishes it), else None. Raises
    ``UnknownEventType`` or ``PayloadMismatch`` (see ``event_types.validate``).
    """
    kind = event_types.validate(event_type, payload)
    return {"type": event_type, "payload": payload, "handled_at": None if kind.handled_by else utcnow()}


def record(session: Session, event_type: str, **payload: object) -> Event:
    """Write an event in the caller's transaction; it is published only if that transaction commits
    (and only if something handles its type: see ``row``).

    Raises ``UnknownEventType`` or ``PayloadMismatch`` (see ``event_types.validate``).
    """
    event = Event(**row(event_type, **payload))
    session.add(event)
    return event


def _publish(sessions: sessionmaker[Session], publish: Publish, stale_before: dt.datetime | None) -> int:
    with sessions() as session, session.begin():
        now = utcnow()
        pending = select(Event).where(Event.handled_at.is_(None))
        if stale_before is None:
            pending = pending.where(Event.published_at.is_(None))
        else:
            pending = pending.where(or_(Event.published_at.is_(None), Event.published_at < stale_before))
        rows = session.scalars(
            pending.order_by(Event.id).limit(RELAY_BATCH).with_for_update(skip_locked=True)
        ).all()
        for event in rows:
            publish(event.id)
            event.published_at = now
            event.publish_count += 1
        return len(rows)


def relay(sessions: sessionmaker[Session], publish: Publish) -> int:
    """Publish events that were never published; returns how many.

    Takes a session factory, not a session: a scheduler tick, not a caller's unit of work, owns the
    transaction that marks the batch it handed to the broker.
    """
    return _publish(sessions, publish, stale_before=None)


def sweep(sessions: sessionmaker[Session], publish: Publish, grace_seconds: int) -> int:
    """Publish again events still unhandled ``grace_seconds`` after their last publish; returns how many."""
    return _publish(sessions, publish, stale_before=utcnow() - dt.timedelta(seconds=grace_seconds))


def handle(sessions: sessionmaker[Session], event_id: int) -> bool:
    """Run the handlers of one event once in effect; False when it was already handled or is gone.

    Takes a session factory, not a session, because it commits twice when a handler fails: the
    handlers' work rolls back as one, then the error is recorded on the event in a transaction of its own.

    Raises what a handler raised, or ``MissingHandler`` when the catalogue names a handler module for
    the event's type that this process has not imported; the event then stays unhandled, with the
    error, and the sweeper publishes it again.
    """
    try:
        with sessions() as session, session.begin():
            event = session.scalars(select(Event).where(Event.id == event_id).with_for_update()).one_or_none()
            if event is None or event.handled_at is not None:
                return False
            handlers = handlers_for(event.type)
            kind = event_types.CATALOGUE.get(event.type)
            if not handlers and kind is not None and kind.handled_by is not None:
                raise MissingHandler(f"no handler for {event.type!r} is registered: import {kind.handled_by}")
            for handler in handlers:
                handler(session, dict(event.payload))
            event.handled_at = utcnow()
            event.last_error = None
            return True
    except Exception as exc:
        with sessions() as session, session.begin():
            failed = session.get(Event, event_id)
            if failed is not None:
                failed.last_error = limits.clip(f"{type(exc).__name__}: {exc}", limits.ERROR_TEXT)
        raise


def waiting_longer_than(session: Session, seconds: int) -> list[Event]:
    """Events unhandled for longer than ``seconds`` since they were recorded (for the ops page)."""
    cutoff = utcnow() - dt.timedelta(seconds=seconds)
    return list(
        session.scalars(
            select(Event).where(Event.handled_at.is_(None), Event.created_at < cutoff).order_by(Event.id)
        )
    )
