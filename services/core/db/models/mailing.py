"""Subscribers, weekly digests and the delivery ledger."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.core.db.base import Base, UtcDateTime, utcnow
from services.core.domain import BatchState, DigestState, SubscriberState


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=SubscriberState.PENDING.value, index=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    suppressed_reason: Mapped[str | None] = mapped_column(String(64))
    suppressed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class Digest(Base):
    """One weekly digest; the week label is its idempotency key."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(10), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=DigestState.DRAFT.value, index=True)
    subject: Mapped[str] = mapped_column(String(300))
    preheader: Mapped[str] = mapped_column(String(300), default="")
    intro: Mapped[str] = mapped_column(Text, default="")
    sections: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    html: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    compiled_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    batches: Mapped[list[DeliveryBatch]] = relationship(back_populates="digest", order_by="DeliveryBatch.number")


class DeliveryBatch(Base):
    """A ledger row written before its request: pending → sending → sent | failed | ambiguous."""

    __tablename__ = "delivery_batches"
    __table_args__ = (UniqueConstraint("digest_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default=BatchState.PENDING.value, index=True)
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

    digest: Mapped[Digest] = relationship(back_populates="batches")
