"""The mailing list: one row per address, with its state, topics and suppression."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.core import limits
from services.core.db.base import Base, UtcDateTime, string_enum, utcnow
from services.core.domain import SubscriberState


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(limits.EMAIL), unique=True)
    state: Mapped[SubscriberState] = mapped_column(string_enum(SubscriberState, 16), default=SubscriberState.PENDING,
                                                   index=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Sorted topic slugs (``services.core.topics``); empty: the whole digest.
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    suppressed_reason: Mapped[str | None] = mapped_column(String(64))
    suppressed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    #: Soft bounces (SendGrid's "blocked") since the last delivery; suppressed at settings' soft_bounce_limit.
    soft_bounce_run: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
