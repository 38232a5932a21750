"""Running recorded events inline, as the scheduler's relay and a worker would."""

from __future__ import annotations

import email
from email import policy

from services.core import events
from services.core.runtime import Runtime


def handle_recorded_events(rt: Runtime) -> int:
    """Relay every recorded event and handle each, until none is left (handlers may record more); how many ran."""
    handled = 0
    while True:
        published: list[int] = []
        events.relay(rt.sessions, published.append)
        if not published:
            return handled
        for event_id in published:
            events.handle(rt.sessions, event_id)
        handled += len(published)


def mails(rt: Runtime) -> list[email.message.EmailMessage]:
    """Every .eml in ``rt``'s outbox, oldest first, once the worker has handled what was recorded (the mails
    changes owe go out through events)."""
    handle_recorded_events(rt)
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(rt.settings.outbox_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime)]
