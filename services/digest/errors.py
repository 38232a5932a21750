"""What the digest package refuses: an unknown digest or week, a change to a digest that left draft, a bad edit."""

from __future__ import annotations

from services.core.errors import Conflict, InvalidInput, NotFound


class DigestNotFound(NotFound):
    """No digest has the id or week given."""


class InvalidWeek(InvalidInput):
    """The week label is not an ISO week such as 2026-W48."""


class DigestNotDraft(Conflict):
    """The digest was approved (or is going out) already; only a draft can change."""


class DigestEditError(InvalidInput):
    """An edit that does not fit: an empty subject, text over its limit, an order that misses a section."""


class BadTestAddress(InvalidInput):
    """The address for a test mail is not a valid email address, or not one the mailer can deliver to."""


class DigestRenderError(InvalidInput):
    """What the digest would say does not render as mail; the message names the template and the fault."""


class DigestTooLarge(DigestRenderError):
    """The digest's HTML is past the size at which Gmail clips a message; the message names the largest fields."""


class DigestWithoutBody(Conflict):
    """The digest's mail was never rendered (its HTML or text is empty), so it cannot be approved."""
