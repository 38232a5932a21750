"""Outgoing webhooks: the endpoints editors registered, one delivery per event and endpoint, each attempt.

A delivery is the Standard Webhooks message (its ``webhook-id`` and exact body) owed to one endpoint; the
database says when it is next due (``next_attempt_at``), so a lost broker message or a crashed worker
only delays it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.core import limits
from services.core.db.base import Base, UtcDateTime, string_enum, utcnow
from services.core.domain import HookDeliveryState


class HookEndpoint(Base):
    """A URL told of the event types in ``event_types``; ``secret`` (``whsec_…``) signs what it is sent."""

    __tablename__ = "hook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(limits.URL))
    description: Mapped[str] = mapped_column(String(limits.HOOK_DESCRIPTION), default="")
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class HookDelivery(Base):
    """One event owed to one endpoint: `pending` (due at ``next_attempt_at``) → `succeeded` | `failed`.

    ``claim`` and ``claimed_until``: the scheduler's tick hands a due delivery to the worker with a fresh
    claim; the worker's attempt runs only if the claim is still the delivery's, and until ``claimed_until``
    no tick hands it out again.
    """

    __tablename__ = "hook_deliveries"
    __table_args__ = (Index("ix_hook_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("hook_endpoints.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(100))
    #: The ``webhook-id`` header: the same on every attempt and on a replay, so receivers can drop a repeat.
    message_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[HookDeliveryState] = mapped_column(string_enum(HookDeliveryState, 16),
                                                     default=HookDeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    claim: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: A replay is a new delivery of the same message; each points at the other.
    replay_of_id: Mapped[int | None] = mapped_column(Integer)
    replayed_as_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class HookAttempt(Base):
    """One POST of a delivery: the status it got (None when no answer came), how long it took, what went wrong."""

    __tablename__ = "hook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("hook_deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
