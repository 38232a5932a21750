"""Alert incidents: each problem is announced once when it starts, and closed when it is over."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.core.db.base import Base, UtcDateTime, utcnow


class AlertIncident(Base):
    __tablename__ = "alert_incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    #: Equal to ``key`` while the incident is open and NULL once resolved: the unique index lets one
    #: incident per key be open at a time, however many processes notice the problem at once.
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    text: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    notified_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
