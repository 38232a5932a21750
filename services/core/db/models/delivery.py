"""Send control and delivery feedback: a digest's pause/cancel switch, its counters, webhook events seen."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.core.db.base import Base, UtcDateTime, utcnow


class DigestSend(Base):
    """One row per digest being sent: the editor's switch (running, paused, cancelled) and what came back."""

    __tablename__ = "digest_sends"

    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"), primary_key=True)
    control: Mapped[str] = mapped_column(String(16), default="running")
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    opened: Mapped[int] = mapped_column(Integer, default=0)
    clicked: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class WebhookEvent(Base):
    """A SendGrid event already processed, keyed by its ``sg_event_id`` (events arrive at least once)."""

    __tablename__ = "webhook_events"

    sg_event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    event: Mapped[str] = mapped_column(String(32))
    digest_id: Mapped[int | None] = mapped_column(Integer)
    subscriber_id: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
