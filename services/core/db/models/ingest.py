"""Ingest's bookkeeping beside sources and tools: every key a tool is known by, and forgotten entries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.core import limits
from services.core.db.base import Base, UtcDateTime, utcnow


class ToolKey(Base):
    """One canonical key of a tool (``github:owner/repo``, ``hf:org/model``, ``url:…``, ``name:…``).

    A tool seen on GitHub, on the Hub and on a vendor blog carries one key per sighting, so the next
    sighting under any of them lands on the same tool.
    """

    __tablename__ = "tool_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    tool_id: Mapped[int] = mapped_column(ForeignKey("tools.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(limits.TOOL_KEY), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class EntryTombstone(Base):
    """An entry deleted on purpose: the same guid from the same source is not stored again."""

    __tablename__ = "entry_tombstones"
    __table_args__ = (UniqueConstraint("source_id", "guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    guid: Mapped[str] = mapped_column(String(limits.ENTRY_GUID))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
