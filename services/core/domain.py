"""Plain values shared by every package: enums and dataclasses, standard library only."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    REVIEWER = "reviewer"
    OPS = "ops"


class TokenScope(enum.StrEnum):
    """What an API token may do: everything its user's role allows, or only read (GET)."""

    FULL = "full"
    READ = "read"


class SourceKind(enum.StrEnum):
    FEED = "feed"
    GITHUB_RELEASES = "github-releases"
    HF_MODELS = "hf-models"
    JSON_FEED = "json-feed"


class SourceState(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    DISABLED = "disabled"


class ToolState(enum.StrEnum):
    """Where a tool stands: candidates wait in the review queue (a snoozed one is a candidate with
    ``snoozed_until`` set), approved ones go to the panel."""

    CANDIDATE = "candidate"
    APPROVED = "approved"
    REJECTED = "rejected"
    MERGED = "merged"


class EvidenceKind(enum.StrEnum):
    """Why a piece of evidence sits on a tool: it announced the tool, updated it, or moved over in a merge."""

    DETECTED = "detected"
    UPDATE = "update"
    MERGED = "merged"


class Call(enum.StrEnum):
    SHIP = "ship"
    SKIP = "skip"


class VerdictState(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"


class ComparisonState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class SubscriberState(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class DigestState(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SENDING = "sending"
    SENT = "sent"


class SendControl(enum.StrEnum):
    """The editor's switch on a digest being sent: pending batches go out only while it is running."""

    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"


class BatchState(enum.StrEnum):
    """The delivery ledger: a batch is written `pending` before any request leaves."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    AMBIGUOUS = "ambiguous"


class WebhookBatchState(enum.StrEnum):
    """A stored Event Webhook post: `stored` by the request, then `processed` (or `failed`, kept with its error)
    by the worker."""

    STORED = "stored"
    PROCESSED = "processed"
    FAILED = "failed"


class HookDeliveryState(enum.StrEnum):
    """An outgoing webhook delivery: `pending` until an attempt got a 2xx (`succeeded`) or its attempts ran
    out or the address was refused (`failed`)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


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
class SourceFacts:
    """What the detector may know of the source an entry came from."""

    kind: str = "feed"
    url: str | None = None
    title: str | None = None
    #: The key of the tool a changelog source is tied to (by an editor, or inferred), else None.
    tool_key: str | None = None


@dataclass(frozen=True)
class Detection:
    """The detector's opinion of one entry and one tool it names: a launch or update, how sure, and why.

    An entry that names several tools gives one Detection per tool, all with the same score and
    reasons; ``names`` lists every tool name found in the entry.
    """

    score: float
    reasons: tuple[str, ...]
    name: str
    vendor: str | None = None
    homepage: str | None = None
    version: str | None = None
    key: str | None = None
    #: Further keys the same tool may be known by (linked repositories, product URL, name).
    aliases: tuple[str, ...] = ()
    #: The score from which an entry counts as a release (the model's own, or the setting).
    threshold: float = 0.5
    #: "new" (a tool or model not seen before) or "update" (a release of a known tool).
    kind: str = "new"
    names: tuple[str, ...] = ()
    #: The version of the scoring model that gave ``score``.
    model_version: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(k for k in (self.key, *self.aliases) if k))

    @property
    def is_release(self) -> bool:
        return self.score >= self.threshold


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
