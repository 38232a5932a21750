"""Thin actors and event handlers of the outgoing webhooks.

Each event type an endpoint can ask for is handled by fanning it out (``deliveries.fan_out``) in the
event's own transaction; the scheduler's tick (``dispatch_due``) hands due deliveries to ``deliver_hook``,
which makes one attempt. The actor does not retry through the broker (``max_retries=0``): the delivery's
``next_attempt_at`` is the retry schedule, and an actor that died leaves a lease that runs out.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.core import events, runtime
from services.core.broker import actor
from services.hooks import deliveries
from services.hooks.endpoints import EVENT_TYPES


@actor("webhooks", max_retries=0)
def deliver_hook(delivery_id: int, claim: str) -> None:
    rt = runtime.current()
    deliveries.attempt(rt.sessions, rt.settings, delivery_id, claim)


def dispatch_due() -> int:
    """The scheduler's tick: send each due delivery to the worker with its fresh claim; how many were sent."""
    rt = runtime.current()
    claims = deliveries.claim_due(rt.sessions, deliveries.lease_seconds(rt.settings))
    for delivery_id, claim in claims:
        deliver_hook.send(delivery_id, claim)
    return len(claims)


def _fan_out(event_type: str) -> events.Handler:
    """Register the handler that fans ``event_type`` out to the endpoints that asked for it."""

    def handler(session: Session, payload: events.Payload) -> None:
        deliveries.fan_out(session, event_type, payload, str(runtime.current().settings.base_url))

    handler.__name__ = handler.__qualname__ = "fan_out_" + event_type.replace(".", "_")
    return events.handles(event_type)(handler)


for _event_type in EVENT_TYPES:
    _fan_out(_event_type)
