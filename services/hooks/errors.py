"""What the outgoing webhooks refuse."""

from __future__ import annotations

from services.core.errors import Conflict, InvalidInput, NotFound


class HookNotFound(NotFound):
    """No endpoint or delivery has the id given (or the delivery is not the endpoint's)."""


class HookRefused(InvalidInput):
    """An endpoint that cannot be registered: a URL the SSRF guard refuses, no event type, a bad value."""


class HookBusy(Conflict):
    """A delivery that is still being tried cannot be replayed."""
