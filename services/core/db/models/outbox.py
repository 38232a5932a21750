"""The transactional outbox: an event row is written in the same transaction as its change."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.core.db.base import Base, UtcDateTime, utcnow


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_pending", "handled_at", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(100), index=True)
    payload: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    publish_count: Mapped[int] = mapped_column(Integer, default=0)
    handled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
