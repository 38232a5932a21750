"""The one list of event types: each one's name, payload keys and the module that handles it.

``events.record()`` refuses a type that is not listed here, or a payload whose keys differ from the
listed ones; ``events.handles()`` accepts a handler only from the module a type names. A type whose
``handled_by`` is ``None`` is recorded for the record only (history, audit, the ops page): its rows
are written already handled (``events.row``), so the relay never sees them and they cost no broker message.

Core imports no feature package, so a handler's module is named as a string; a test imports each
named module and checks that it registers the handlers listed here, and only those.

Standard library only.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


class EventName(enum.StrEnum):
    """Every event type's name, for call sites that prefer a name to a string literal."""

    ENTRY_INGESTED = "entry.ingested"
    TOOL_DETECTED = "tool.detected"
    TOOL_QUEUED = "tool.queued"
    TOOL_UPDATED = "tool.updated"
    TOOL_EVIDENCE_ADDED = "tool.evidence_added"
    SOURCE_PAUSED = "source.paused"
    SOURCE_DISABLED = "source.disabled"
    TOOL_APPROVED = "tool.approved"
    TOOL_REJECTED = "tool.rejected"
    TOOL_MERGED = "tool.merged"
    VERDICT_COMPLETED = "verdict.completed"
    COMPARISON_PUBLISHED = "comparison.published"
    DIGEST_COMPILED = "digest.compiled"
    DIGEST_APPROVED = "digest.approved"
    DIGEST_TEST_DUE = "digest.test_due"
    DELIVERY_BATCHES_READY = "delivery.batches_ready"
    DELIVERY_BATCH_FAILED = "delivery.batch_failed"
    DELIVERY_BATCH_AMBIGUOUS = "delivery.batch_ambiguous"
    DIGEST_SENT = "digest.sent"
    SUBSCRIBER_CONFIRMATION_DUE = "subscriber.confirmation_due"
    SUBSCRIBER_WELCOME_DUE = "subscriber.welcome_due"
    WEBHOOK_BATCH_STORED = "webhook.batch_stored"


@dataclass(frozen=True, slots=True)
class EventType:
    """One kind of event.

    ``payload`` maps each key the payload carries to the type of its value; ``handled_by`` is the
    dotted name of the module that registers its handler, or ``None`` when nothing reacts to it.
    ``keys`` is ``payload``'s keys as a frozenset, for a cheap comparison in ``record()``.
    """

    name: str
    payload: Mapping[str, object]
    handled_by: str | None
    doc: str
    keys: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", frozenset(self.payload))


class UnknownEventType(ValueError):
    """An event type that is not in the catalogue."""


class PayloadMismatch(ValueError):
    """A payload whose keys are not the ones the catalogue lists for its type."""


#: The module of the outgoing webhooks' handlers: each event of the types it handles becomes one delivery per
#: endpoint that asked for that type (services/hooks).
HOOKS = "services.hooks.actors"


def _catalogue(*kinds: EventType) -> Mapping[str, EventType]:
    return MappingProxyType({kind.name: kind for kind in kinds})


CATALOGUE: Mapping[str, EventType] = _catalogue(
    # ingest (bulk-inserted through events.row by services.ingest.store and candidates)
    EventType(EventName.ENTRY_INGESTED, {"entry_id": int, "source_id": int}, None,
              "A new entry of a source was stored."),
    EventType(EventName.TOOL_DETECTED, {"tool_id": int, "entry_id": int, "score": float}, None,
              "An entry named a tool not seen before; a candidate was created."),
    EventType(EventName.TOOL_QUEUED, {"tool_id": int}, HOOKS,
              "A new candidate entered the review queue; webhook endpoints that asked are told."),
    EventType(EventName.TOOL_UPDATED, {"tool_id": int, "entry_id": int}, None,
              "An approved tool was seen again (a new version or release)."),
    EventType(EventName.TOOL_EVIDENCE_ADDED, {"tool_id": int, "entry_id": int}, None,
              "A tool not yet approved (queued or rejected) was seen again; kept as evidence."),
    EventType(EventName.SOURCE_PAUSED, {"source_id": int, "reason": str}, "services.ops.alerts",
              "A source failed too many times in a row and stopped polling; ops are alerted."),
    EventType(EventName.SOURCE_DISABLED, {"source_id": int, "reason": str}, None,
              "A source was disabled for good: it answered 410 Gone, or permanently redirects to a URL "
              "another source watches."),
    # review
    EventType(EventName.TOOL_APPROVED, {"tool_id": int}, HOOKS,
              "An editor approved a candidate; webhook endpoints that asked are told."),
    EventType(EventName.TOOL_REJECTED, {"tool_id": int}, None, "An editor rejected a candidate."),
    EventType(EventName.TOOL_MERGED, {"tool_id": int, "into_id": int}, None,
              "An editor merged a candidate into another tool."),
    EventType(EventName.VERDICT_COMPLETED, {"verdict_id": int, "tool_id": int}, HOOKS,
              "Enough panel seats called a tool for its verdict to be complete; webhook endpoints that asked are told."),
    EventType(EventName.COMPARISON_PUBLISHED, {"comparison_id": int}, HOOKS,
              "A comparison went public; webhook endpoints that asked are told."),
    # digest and delivery
    EventType(EventName.DIGEST_COMPILED, {"digest_id": int, "week": str}, None, "A week's digest was compiled."),
    EventType(EventName.DIGEST_APPROVED, {"digest_id": int}, "services.delivery.actors",
              "A digest was approved for sending; its batches are cut."),
    EventType(EventName.DIGEST_TEST_DUE, {"digest_id": int, "address": str}, "services.digest.actors",
              "An editor asked for a test mail of a digest to one address; the worker mails it as it stands."),
    EventType(EventName.DELIVERY_BATCHES_READY, {"batch_ids": list[int], "digest_id": int}, "services.delivery.actors",
              "Pending batches of a digest are ready; each is handed to the mail queue."),
    EventType(EventName.DELIVERY_BATCH_FAILED, {"batch_id": int, "digest_id": int}, "services.ops.alerts",
              "A batch failed (refused, throttled past its tries, or cancelled); ops are alerted."),
    EventType(EventName.DELIVERY_BATCH_AMBIGUOUS, {"batch_id": int, "digest_id": int}, "services.ops.alerts",
              "A batch may or may not have gone out; ops are alerted to decide on a resend."),
    EventType(EventName.DIGEST_SENT, {"digest_id": int, "week": str}, HOOKS,
              "Every batch of a digest settled; webhook endpoints that asked are told."),
    # subscribers: the mails a change owes, recorded with it, sent by a worker
    EventType(EventName.SUBSCRIBER_CONFIRMATION_DUE, {"subscriber_id": int}, "services.delivery.actors",
              "An address asked to subscribe (or was added or imported pending); it is mailed the "
              "confirmation link if it is still pending when the worker handles this."),
    EventType(EventName.SUBSCRIBER_WELCOME_DUE, {"subscriber_id": int}, "services.delivery.actors",
              "A subscriber confirmed; they are mailed the welcome if still confirmed when the worker handles this."),
    # the mail service's Event Webhook: stored by the request, processed by a worker
    EventType(EventName.WEBHOOK_BATCH_STORED, {"batch_id": int}, "services.delivery.actors",
              "An Event Webhook post was stored as received; a worker applies its events (suppressions, "
              "soft-bounce runs, the engagement counters) once each."),
)


def lookup(name: str) -> EventType:
    """The catalogue's entry for ``name``; raises ``UnknownEventType`` when it has none."""
    kind = CATALOGUE.get(name)
    if kind is None:
        raise UnknownEventType(f"unknown event type '{name}': add it to services/core/event_types.py")
    return kind


def validate(name: str, payload: Mapping[str, object]) -> EventType:
    """Check an event before it is recorded (one lookup and one set comparison); its catalogue entry.

    Raises ``UnknownEventType`` for a name not in the catalogue, ``PayloadMismatch`` when the
    payload's keys are not exactly the listed ones (naming the missing and the extra keys).
    """
    kind = lookup(name)
    if payload.keys() != kind.keys:
        missing, extra = sorted(kind.keys - payload.keys()), sorted(payload.keys() - kind.keys)
        raise PayloadMismatch(f"event '{name}': payload keys missing {missing}, unexpected {extra}")
    return kind
