"""What the delivery package refuses: sends and batches that do not exist or are in the wrong state, bad links."""

from __future__ import annotations

from services.core.errors import Conflict, InvalidInput, NotFound


class UnknownDigest(NotFound):
    """No digest has the id a send names."""


class BatchNotFound(NotFound):
    """No delivery batch has the id given."""


class DigestNotSending(Conflict):
    """The digest was never cut into batches, so there is no send to pause, resume or cancel."""


class BatchNotAmbiguous(Conflict):
    """Only an ambiguous batch can be resent; this one is not (or does not exist)."""


class SubscriberLinkError(InvalidInput):
    """A confirm, unsubscribe or preferences link that is tampered with, expired, or names a subscription
    that no longer exists."""


class EmptyDigest(Conflict):
    """The digest's mail was never rendered (its HTML or text is empty), so it cannot be sent."""
