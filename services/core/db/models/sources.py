"""Sources we poll and the entries they publish."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.core import limits
from services.core.db.base import Base, UtcDateTime, string_enum, utcnow
from services.core.domain import SourceKind, SourceState


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(limits.URL), unique=True)
    kind: Mapped[SourceKind] = mapped_column(string_enum(SourceKind, 32), default=SourceKind.FEED)
    title: Mapped[str | None] = mapped_column(String(limits.SOURCE_TITLE))
    state: Mapped[SourceState] = mapped_column(string_enum(SourceState, 16), default=SourceState.ACTIVE, index=True)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    watermark: Mapped[str | None] = mapped_column(String(100))
    poll_interval_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    next_poll_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    last_polled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_kind: Mapped[str | None] = mapped_column(String(64))
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    parse_warning: Mapped[str | None] = mapped_column(Text)
    state_reason: Mapped[str | None] = mapped_column(Text)
    #: Set by the worker that polls the source; another worker skips it until this time passes.
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error_status: Mapped[int | None] = mapped_column(Integer)
    #: The tool a changelog source is tied to (set by an editor, or inferred from matching versions).
    tool_key: Mapped[str | None] = mapped_column(String(limits.TOOL_KEY))
    #: Names an editor groups sources by, e.g. "AI/Labs" (from nested OPML outlines and categories).
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    entries: Mapped[list[Entry]] = relationship(back_populates="source", cascade="all, delete-orphan")


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("source_id", "guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    guid: Mapped[str] = mapped_column(String(limits.ENTRY_GUID))
    link: Mapped[str | None] = mapped_column(String(limits.URL))
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(limits.ENTRY_AUTHOR))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    fetched_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)

    source: Mapped[Source] = relationship(back_populates="entries")
