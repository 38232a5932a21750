"""Plain values shared by every package: enums and dataclasses, standard library only."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class Role(str, enum.Enum):
    ADMIN = "admin"
    EDITOR = "editor"
    REVIEWER = "reviewer"
    OPS = "ops"


class SourceKind(str, enum.Enum):
    FEED = "feed"
    GITHUB_RELEASES = "github-releases"
    HF_MODELS = "hf-models"
    JSON_FEED = "json-feed"


class SourceState(str, enum.Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    DISABLED = "disabled"


class ToolState(str, enum.Enum):
    """Where a tool stands: candidates wait in the review queue, approved ones go to the panel."""

    CANDIDATE = "candidate"
    APPROVED = "approved"
    REJECTED = "rejected"
    MERGED = "merged"
    SNOOZED = "snoozed"


class Call(str, enum.Enum):
    SHIP = "ship"
    SKIP = "skip"


class VerdictState(str, enum.Enum):
    OPEN = "open"
    COMPLETED = "completed"


class ComparisonState(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


class SubscriberState(str, enum.Enum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class DigestState(str, enum.Enum):
    DRAFT = "draft"
    APPROVED = "approved"
    SENDING = "sending"
    SENT = "sent"


class BatchState(str, enum.Enum):
    """The delivery ledger: a batch is written `pending` before any request leaves."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    AMBIGUOUS = "ambiguous"


DEFAULT_LENSES: tuple[str, ...] = ("builder", "skeptic", "strategist", "buyer")


@dataclass(frozen=True)
class ParsedEntry:
    """One item of a source, as the parser hands it to the pipeline (text already sanitized)."""

    guid: str
    title: str
    link: str | None
    summary: str
    published_at: dt.datetime | None
    author: str | None = None
    tags: tuple[str, ...] = ()
    #: A release tag when the source knows it (GitHub releases), else None.
    version: str | None = None


@dataclass(frozen=True)
class Detection:
    """The detector's opinion of one entry: is it a new tool, model or release, and why."""

    score: float
    reasons: tuple[str, ...]
    name: str
    vendor: str | None = None
    homepage: str | None = None
    version: str | None = None
    key: str | None = None
    #: Further keys the same tool may be known by (linked repositories, product URL, name).
    aliases: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(k for k in (self.key, *self.aliases) if k))

    @property
    def is_release(self) -> bool:
        return self.score >= 0.5


def iso_week(day: dt.date) -> str:
    """The ISO week label used as a digest's key, e.g. ``2026-W48``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_iso_week(label: str) -> dt.date:
    """The Monday of an ISO week label; raises ValueError on a malformed label."""
    try:
        year_part, week_part = label.split("-W")
        return dt.date.fromisocalendar(int(year_part), int(week_part), 1)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not an ISO week like 2026-W48: {label!r}") from exc


def ship_percent(ships: int, calls: int) -> int | None:
    """Share of calls that said ship, rounded to a whole percent; None before any call."""
    if calls == 0:
        return None
    return round(100 * ships / calls)
