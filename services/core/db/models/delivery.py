"""The delivery ledger: a digest's batches and send switch; stored webhook posts, the events seen, and the
engagement counters they add up to."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Integer, PrimaryKeyConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.core import limits
from services.core.db.base import Base, UtcDateTime, string_enum, utcnow
from services.core.domain import BatchState, SendControl, WebhookBatchState


class DeliveryBatch(Base):
    """A ledger row written before its request: pending → sending → sent | failed | ambiguous."""

    __tablename__ = "delivery_batches"
    __table_args__ = (UniqueConstraint("digest_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[BatchState] = mapped_column(string_enum(BatchState, 16), default=BatchState.PENDING, index=True)
    subscriber_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    #: The version of the mail this batch gets (``DigestVariant``); None for batches cut before variants.
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("digest_variants.id", ondelete="CASCADE"))
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
    """One row per digest being sent: the editor's switch (running, paused, cancelled). What came back is in
    ``DigestEventCount``."""

    __tablename__ = "digest_sends"

    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"), primary_key=True)
    control: Mapped[SendControl] = mapped_column(string_enum(SendControl, 16), default=SendControl.RUNNING)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class WebhookEvent(Base):
    """A SendGrid event already processed, keyed by its ``sg_event_id`` (events arrive at least once)."""

    __tablename__ = "webhook_events"

    sg_event_id: Mapped[str] = mapped_column(String(limits.WEBHOOK_EVENT_ID), primary_key=True)
    event: Mapped[str] = mapped_column(String(limits.WEBHOOK_EVENT))
    digest_id: Mapped[int | None] = mapped_column(Integer)
    subscriber_id: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class WebhookBatch(Base):
    """One Event Webhook post as received (its JSON array, verbatim), stored before the request is answered.

    ``stored`` → ``processed`` (with what it held: events applied the first time, repeats, rejected ones) or
    ``failed`` (kept, with the error, never deleted).
    """

    __tablename__ = "webhook_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[WebhookBatchState] = mapped_column(string_enum(WebhookBatchState, 16),
                                                     default=WebhookBatchState.STORED, index=True)
    body: Mapped[str] = mapped_column(Text)
    event_count: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    fresh: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)


class DigestEventCount(Base):
    """Webhook events of one kind about one digest in one clock hour (UTC), added to per processed batch.

    Kinds: ``services.delivery.engagement.KINDS``. Totals are sums over hours; the report's chart reads the hours.
    """

    __tablename__ = "digest_event_counts"
    __table_args__ = (PrimaryKeyConstraint("digest_id", "kind", "hour"),)

    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    hour: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)


class DigestLinkClick(Base):
    """Clicks on one link of a digest (the link as SendGrid reports it, personal tokens taken out)."""

    __tablename__ = "digest_link_clicks"
    __table_args__ = (PrimaryKeyConstraint("digest_id", "url"),)

    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(limits.CLICKED_URL))
    clicks: Mapped[int] = mapped_column(Integer, default=0)


class DigestEngagement(Base):
    """That a subscriber clicked (or opened) a digest at least once: the report counts unique clickers from these
    rows. Erasing the subscriber erases them."""

    __tablename__ = "digest_engagements"
    __table_args__ = (PrimaryKeyConstraint("digest_id", "kind", "subscriber_id"),)

    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
