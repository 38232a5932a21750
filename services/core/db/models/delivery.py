"""The delivery ledger: a digest's batches, its send switch and counters, and webhook events seen."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.core import limits
from services.core.db.base import Base, UtcDateTime, string_enum, utcnow
from services.core.domain import BatchState, SendControl


class DeliveryBatch(Base):
    """A ledger row written before its request: pending → sending → sent | failed | ambiguous."""

    __tablename__ = "delivery_batches"
    __table_args__ = (UniqueConstraint("digest_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[BatchState] = mapped_column(string_enum(BatchState, 16), default=BatchState.PENDING, index=True)
    subscriber_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: The broker message that claimed the batch: a redelivery of that same message after a crash
    #: finds the batch ``sending`` and marks it ambiguous; any other message leaves it alone.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    #: An ambiguous batch that ops chose to send again points at the batch that did so.
    resent_as_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class DigestSend(Base):
    """One row per digest being sent: the editor's switch (running, paused, cancelled) and what came back."""

    __tablename__ = "digest_sends"

    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"), primary_key=True)
    control: Mapped[SendControl] = mapped_column(string_enum(SendControl, 16), default=SendControl.RUNNING)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    opened: Mapped[int] = mapped_column(Integer, default=0)
    clicked: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class WebhookEvent(Base):
    """A SendGrid event already processed, keyed by its ``sg_event_id`` (events arrive at least once)."""

    __tablename__ = "webhook_events"

    sg_event_id: Mapped[str] = mapped_column(String(limits.WEBHOOK_EVENT_ID), primary_key=True)
    event: Mapped[str] = mapped_column(String(limits.WEBHOOK_EVENT))
    digest_id: Mapped[int | None] = mapped_column(Integer)
    subscriber_id: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
