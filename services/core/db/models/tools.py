"""Tools (candidates in the review queue until an editor decides) and the evidence behind them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.core import limits
from services.core.db.base import Base, UtcDateTime, string_enum, utcnow
from services.core.domain import EvidenceKind, ToolState


class Tool(Base):
    __tablename__ = "tools"
    #: The review queue lists candidates of one state newest first: this index serves it without a sort.
    #: A category's page counts and lists its approved tools by name from the second alone.
    __table_args__ = (Index("ix_tools_state_created_at", "state", "created_at"),
                      Index("ix_tools_category_state_name", "category", "state", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(limits.TOOL_NAME))
    vendor: Mapped[str | None] = mapped_column(String(limits.VENDOR))
    homepage: Mapped[str | None] = mapped_column(String(limits.URL))
    category: Mapped[str | None] = mapped_column(String(limits.CATEGORY))
    tagline: Mapped[str | None] = mapped_column(String(limits.TAGLINE))
    entry_price: Mapped[str | None] = mapped_column(String(limits.ENTRY_PRICE))
    description: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(String(limits.VERSION))
    canonical_key: Mapped[str | None] = mapped_column(String(limits.TOOL_KEY), unique=True)
    state: Mapped[ToolState] = mapped_column(string_enum(ToolState, 16), default=ToolState.CANDIDATE, index=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The version of the detector model that scored the candidate (None: scored before models had versions).
    model_version: Mapped[str | None] = mapped_column(String(64))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tools.id"))
    snoozed_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    #: Bumped on every write; a stale write raises StaleDataError, which the queue turns into a conflict.
    revision: Mapped[int] = mapped_column(Integer, default=1)

    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="tool", cascade="all, delete-orphan", order_by="Evidence.id"
    )

    __mapper_args__ = {"version_id_col": revision}


class Evidence(Base):
    """One sighting of a tool: an entry of some source that announced it or an update to it."""

    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("tool_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tool_id: Mapped[int] = mapped_column(ForeignKey("tools.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id", ondelete="SET NULL"))
    source_url: Mapped[str] = mapped_column(String(limits.URL))
    url: Mapped[str | None] = mapped_column(String(limits.URL))
    title: Mapped[str] = mapped_column(Text, default="")
    snippet: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[EvidenceKind] = mapped_column(string_enum(EvidenceKind, 16), default=EvidenceKind.DETECTED)
    version: Mapped[str | None] = mapped_column(String(limits.VERSION))
    #: Every tool name the detector found in the entry (an entry may announce several).
    names: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    tool: Mapped[Tool] = relationship(back_populates="evidence")
