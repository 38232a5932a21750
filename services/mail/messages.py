"""What a mailer is handed (one message, or one batch of a digest) and how a hand-off can fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True)
class OutgoingMail:
    """One rendered message for one recipient, ready for any mailer."""

    to: str
    subject: str
    html: str
    text: str
    headers: dict[str, str] = field(default_factory=dict)
    categories: tuple[str, ...] = ()


class DeliveryError(Exception):
    """A batch did not go out cleanly; subclasses say whether it may be tried again."""


class Throttled(DeliveryError):
    """429, 5xx or a refused connection: nothing was accepted, so trying again sends nobody twice."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Rejected(DeliveryError):
    """A 4xx other than 429: the request is wrong and will stay wrong."""


class Uncertain(DeliveryError):
    """The request may have reached the provider (a timeout, a dropped connection)."""


class Recipient(NamedTuple):
    """One recipient of a batch: the marker values of their links, their headers, tracking ids.

    A named tuple rather than a dataclass: a send builds a million of them, and a tuple is made in a
    fraction of the time with one object for the garbage collector to track instead of two.
    """

    address: str
    values: dict[str, str]
    headers: dict[str, str]
    custom_args: dict[str, str]


@dataclass(frozen=True)
class BatchMail:
    """One rendered digest and the recipients of one ledger batch, with the headers all of them share."""

    subject: str
    html: str
    text: str
    categories: tuple[str, ...]
    recipients: list[Recipient]
    headers: dict[str, str] = field(default_factory=dict)
