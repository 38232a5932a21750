"""Running the webhook's worker inline: each recorded ``webhook.batch_stored`` event handled as the events
actor handles it (``events.handle``), so the test sees what a worker would do, and nothing else runs."""

from __future__ import annotations

from sqlalchemy import select

from services.core import events
from services.core.db.models import Event
from services.core.event_types import EventName
from services.core.runtime import Runtime


def process_stored_batches(rt: Runtime) -> int:
    """Handle every unhandled ``webhook.batch_stored`` event, oldest first; how many were handled."""
    with rt.sessions() as session:
        pending = list(session.scalars(select(Event.id).where(Event.type == EventName.WEBHOOK_BATCH_STORED,
                                                              Event.handled_at.is_(None)).order_by(Event.id)))
    return sum(events.handle(rt.sessions, event_id) for event_id in pending)
