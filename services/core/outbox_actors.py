"""The actor that runs event handlers, and the publish function the relay and sweeper use."""

from __future__ import annotations

from services.core import events, runtime
from services.core.broker import actor


@actor("events", max_retries=20)
def handle_event(event_id: int) -> None:
    events.handle(runtime.current().sessions, event_id)


def publish(event_id: int) -> None:
    handle_event.send(event_id)


def relay_and_sweep() -> tuple[int, int]:
    """One pass of both: what the scheduler's relay tick runs."""
    rt = runtime.current()
    relayed = events.relay(rt.sessions, publish)
    swept = events.sweep(rt.sessions, publish, rt.settings.event_grace_seconds)
    return relayed, swept
